// POST /webhooks/stripe: signed with the SDK's generateTestHeaderString, against the real database and queue.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import request from 'supertest';
import Stripe from 'stripe';
import { getConfig, type Config } from '@nudge/config';
import { getDb } from '@nudge/db';
import { QUEUES, jobIdFor } from '@nudge/queue';
import { createApp } from '../../src/index';
import { testDeps } from '../helpers';

const SECRET = 'whsec_fake_platform_endpoint';
const CONNECT_SECRET = 'whsec_fake_connect_endpoint';

describe('POST /webhooks/stripe', () => {
  const db = getDb();
  const base = getConfig();
  const config: Config = {
    ...base,
    stripe: { ...base.stripe, webhookSecret: SECRET, connectWebhookSecret: CONNECT_SECRET },
  };
  const deps = testDeps();
  const app = createApp({ ...deps, config });
  const queue = deps.producers.queue(QUEUES.stripeEvents);
  const ids: string[] = [];

  const event = (type = 'checkout.session.completed', extra: Record<string, unknown> = {}) => {
    const id = `evt_fake${randomBytes(8).toString('hex')}`;
    ids.push(id);
    return {
      id,
      object: 'event',
      type,
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: `cs_fake${randomBytes(6).toString('hex')}`, object: 'checkout.session' } },
      ...extra,
    };
  };
  const post = (payload: string, opts: { secret?: string; timestamp?: number; header?: string | null } = {}) => {
    const req = request(app).post('/webhooks/stripe').set('Content-Type', 'application/json').send(payload);
    const header =
      opts.header !== undefined
        ? opts.header
        : Stripe.webhooks.generateTestHeaderString({
            payload,
            secret: opts.secret ?? SECRET,
            timestamp: opts.timestamp,
          });
    return header === null ? req : req.set('Stripe-Signature', header);
  };
  const stored = (id: string) => db('stripe_events').where({ id }).first();

  after(async () => {
    for (const id of ids) {
      for (let n = 0; n < 3; n++) await queue.remove(jobIdFor(id, n)).catch(() => undefined);
    }
    await db('stripe_events').whereIn('id', ids).delete();
  });

  it('stores a signed event, queues it for the billing worker under jobIdFor(event id, 0), and answers 200', async () => {
    const e = event();
    const res = await post(JSON.stringify(e)).expect(200);
    expect(res.body).to.deep.equal({ received: true, duplicate: false });
    const row = await stored(e.id);
    expect(row).to.include({ type: 'checkout.session.completed', enqueue_count: 1, processed_at: null });
    expect(row.payload).to.deep.equal(e);
    const job = await queue.getJob(jobIdFor(e.id, 0));
    expect(job?.data).to.deep.equal({ eventId: e.id });
  });

  it('treats a redelivered event as a no-op: one row, one job', async () => {
    const e = event();
    await post(JSON.stringify(e)).expect(200);
    const again = await post(JSON.stringify(e)).expect(200);
    expect(again.body).to.deep.equal({ received: true, duplicate: true });
    expect(await db('stripe_events').where({ id: e.id }).count({ n: '*' })).to.deep.equal([{ n: 1 }]);
    expect((await stored(e.id)).enqueue_count).to.equal(1);
    expect(await queue.getJob(jobIdFor(e.id, 1))).to.equal(undefined);
  });

  it('answers 400 without a signature and stores nothing', async () => {
    const e = event();
    const res = await post(JSON.stringify(e), { header: null }).expect(400);
    expect(res.body.code).to.equal('WEBHOOK_SIGNATURE_MISSING');
    expect(await stored(e.id)).to.equal(undefined);
  });

  it('answers 401 for a wrong secret, a tampered body, a stale or a future timestamp, storing nothing', async () => {
    const e = event();
    const payload = JSON.stringify(e);
    const now = Math.floor(Date.now() / 1000);
    for (const res of [
      await post(payload, { secret: 'whsec_fake_not_ours' }),
      await post(payload, { header: Stripe.webhooks.generateTestHeaderString({ payload: '{}', secret: SECRET }) }),
      await post(payload, { timestamp: now - 600 }),
      await post(payload, { timestamp: now + 600 }),
      await post(payload, { header: 'v1=deadbeef' }),
    ]) {
      expect(res.status).to.equal(401);
      expect(res.body.code).to.equal('WEBHOOK_SIGNATURE_INVALID');
    }
    expect(await stored(e.id)).to.equal(undefined);
    expect(await queue.getJob(jobIdFor(e.id, 0))).to.equal(undefined);
  });

  it("accepts a Connect event signed with the Connect endpoint's secret and keeps its account", async () => {
    const e = event('account.updated', { account: 'acct_fake123' });
    await post(JSON.stringify(e), { secret: CONNECT_SECRET }).expect(200);
    expect(await stored(e.id)).to.include({ type: 'account.updated', account: 'acct_fake123' });
  });

  it('stores an event of a type Nudge does not use, for the worker to ignore', async () => {
    const e = event('invoice.finalized');
    await post(JSON.stringify(e)).expect(200);
    expect(await stored(e.id)).to.include({ type: 'invoice.finalized', processed_at: null });
  });

  it('answers 400 for a well-signed body that is not an event, never a 500', async () => {
    for (const payload of ['not json', '[1,2]', '{"type":"x"}', '{"id":"evt_x y","type":"x"}', 'null']) {
      const res = await post(payload);
      expect(res.status, payload).to.equal(400);
      expect(res.body.code).to.equal('WEBHOOK_MALFORMED');
    }
  });
});
