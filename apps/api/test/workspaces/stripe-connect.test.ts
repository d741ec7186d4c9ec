// Stripe Connect onboarding against the fake Stripe, through the real SDK: the account is made once and reused, each
// call answers a fresh Account Link, only owners and admins may start it, and a Stripe that does not answer within
// STRIPE_TIMEOUT_MS is a 503. Payment reminders need a connected account where platform credentials are off.
import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { getConfig } from '@nudge/config';
import { startFakeStripe, type FakeStripe } from '@nudge/testing';
import { createApp } from '../../src/index';
import { team, testDeps, unique } from '../helpers';

type Team = Awaited<ReturnType<typeof team>>;

describe('POST /workspaces/{id}/stripe/connect', () => {
  let fake: FakeStripe;
  let app: Express;
  let t: Team;
  let other: Team;

  before(async function () {
    this.timeout(30_000);
    fake = await startFakeStripe();
    const base = getConfig();
    app = createApp({
      ...testDeps(),
      config: {
        ...base,
        usePlatformCredentials: false,
        stripe: { ...base.stripe, secretKey: fake.secretKey, apiUrl: fake.url, timeoutMs: 300 },
      },
    });
    [t, other] = await Promise.all([team(app), team(app)]);
  });
  after(async () => {
    await fake.close();
  });
  beforeEach(() => fake.setMode('ok'));

  const connect = (workspaceId: string, who = t.owner) =>
    request(app).post(`/workspaces/${workspaceId}/stripe/connect`).set(who.auth);
  const storedAccount = async (workspaceId: string) =>
    (
      await testDeps()
        .db<{ id: string; stripe_account_id: string | null }>('workspaces')
        .where({ id: workspaceId })
        .first('stripe_account_id')
    )?.stripe_account_id;

  it('creates an Express account, stores it on the workspace and answers 201 with its onboarding URL', async () => {
    const res = await connect(t.workspaceId).expect(201);
    const account = await storedAccount(t.workspaceId);
    expect(account).to.match(/^acct_/);
    expect(fake.accounts.get(account!)?.type).to.equal('express');
    const link = fake.accountLinks.find((l) => l.account === account);
    expect(res.body).to.deep.equal({ onboarding_url: link!.url });
    expect(link).to.include({ type: 'account_onboarding' });
  });

  it('reuses the account on a second call (an admin this time) and answers a fresh link', async () => {
    const first = (await connect(t.workspaceId).expect(201)).body.onboarding_url as string;
    const account = await storedAccount(t.workspaceId);
    const before = fake.accounts.size;
    const second = (await connect(t.workspaceId, t.admin).expect(201)).body.onboarding_url as string;
    expect(second).to.not.equal(first);
    expect(fake.accounts.size).to.equal(before);
    expect(await storedAccount(t.workspaceId)).to.equal(account);
    expect(fake.accountLinks.at(-1)).to.include({ account, url: second });
  });

  it('answers 403 to a member, asking Stripe nothing', async () => {
    const calls = fake.requests.length;
    const res = await connect(t.workspaceId, t.member).expect(403);
    expect(res.body.code).to.equal('FORBIDDEN');
    expect(fake.requests.length).to.equal(calls);
  });

  it("answers 404 for another workspace's id", async () => {
    const res = await connect(other.workspaceId, t.owner).expect(404);
    expect(res.body.code).to.equal('NOT_FOUND');
    expect(await storedAccount(other.workspaceId)).to.equal(null);
  });

  it('answers 503 when Stripe does not answer in time, and stores no account', async () => {
    const fresh = await team(app);
    fake.setMode('hang');
    const res = await connect(fresh.workspaceId, fresh.owner).expect(503);
    expect(res.body.code).to.equal('SERVICE_UNAVAILABLE');
    expect(await storedAccount(fresh.workspaceId)).to.equal(null);
  });

  describe('payment reminders without platform credentials', () => {
    const reminder = {
      title: 'Invoice 42',
      type: 'payment',
      amount: 4200,
      message_template: 'Pay here: {{payment_link}}',
      schedule: { kind: 'once', send_at: new Date(Date.now() + 3600_000).toISOString() },
      client_ids: [],
    };

    it('refuses a payment reminder with 409 STRIPE_NOT_CONNECTED until the workspace connects Stripe', async () => {
      const fresh = await team(app);
      const refused = await request(app).post('/reminders/').set(fresh.owner.auth).send(reminder).expect(409);
      expect(refused.body.code).to.equal('STRIPE_NOT_CONNECTED');
      // A deadline reminder needs no Stripe, and may not become a payment one either.
      const deadline = await request(app)
        .post('/reminders/')
        .set(fresh.owner.auth)
        .send({ ...reminder, type: 'deadline', title: unique('Deadline ') })
        .expect(201);
      const patched = await request(app)
        .patch(`/reminders/${deadline.body.id as string}`)
        .set(fresh.owner.auth)
        .send({ type: 'payment', amount: 100 })
        .expect(409);
      expect(patched.body.code).to.equal('STRIPE_NOT_CONNECTED');
      await connect(fresh.workspaceId, fresh.owner).expect(201);
      await request(app).post('/reminders/').set(fresh.owner.auth).send(reminder).expect(201);
    });
  });
});
