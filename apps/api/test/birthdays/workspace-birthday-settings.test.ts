import { expect } from 'chai';
import request from 'supertest';
import { getConfig } from '@nudge/config';
import { appKey } from '@nudge/queue';
import { isAllowedSlackWebhook } from '../../src/routes/workspaces/workspaces.schemas';
import { testApp, testDeps, signUp, superuser, team, unique, type Session } from '../helpers';

const app = () => testApp();
const db = () => testDeps().db;

describe('PATCH /workspaces/{id}: birthday_message_template', () => {
  let owner: Session;
  let ws: string;
  beforeEach(async () => {
    owner = await signUp(app(), { workspace_name: unique('ws') });
    ws = owner.user.workspace_id as string;
  });
  const patch = (body: Record<string, unknown>) => request(app()).patch(`/workspaces/${ws}`).set(owner.auth).send(body);
  const stored = async () =>
    ((await db()('workspaces').where({ id: ws }).first()) as { birthday_message_template: string | null })
      .birthday_message_template;

  it('saves a template with {names} and {count}, and clears it with null', async () => {
    const template = ':tada: Happy birthday {names}! ({count} today)';
    expect((await patch({ birthday_message_template: template }).expect(200)).body.birthday_message_template).to.equal(
      template,
    );
    expect(
      (await request(app()).get(`/workspaces/${ws}`).set(owner.auth).expect(200)).body.birthday_message_template,
    ).to.equal(template);
    await patch({ birthday_message_template: null }).expect(200);
    expect(await stored()).to.equal(null);
  });

  it('accepts exactly 500 characters', async () => {
    const template = `{names}${'x'.repeat(493)}`;
    expect(template).to.have.length(500);
    await patch({ birthday_message_template: template }).expect(200);
  });

  const refused: [string, string, RegExp][] = [
    ['without {names}', 'Happy birthday, everyone!', /\{names\}/],
    ['with another placeholder', 'Happy birthday {names}, aged {age}', /\{age\}/],
    ['longer than 500 characters', `{names}${'x'.repeat(494)}`, /500/],
    ['with an email address', 'Happy birthday {names}! Questions: hr@example.com', /email/],
  ];
  for (const [what, template, message] of refused) {
    it(`answers 422 naming the field for a template ${what}, and stores nothing`, async () => {
      await patch({ birthday_message_template: 'Before {names}' }).expect(200);
      const res = await patch({ birthday_message_template: template }).expect(422);
      expect(res.body.detail[0].loc).to.deep.equal(['body', 'birthday_message_template']);
      expect(res.body.detail[0].msg).to.match(message);
      expect(await stored()).to.equal('Before {names}');
    });
  }
});

describe('PATCH /workspaces/{id}: slack_webhook', () => {
  const HOOK = 'https://hooks.slack.com/services/T0AB12CD3/B0EF45GH6/abcdEFGHijkl5678';
  let t: Awaited<ReturnType<typeof team>>;
  beforeEach(async () => {
    t = await team(app());
  });
  const patch = (body: Record<string, unknown>) =>
    request(app()).patch(`/workspaces/${t.workspaceId}`).set(t.owner.auth).send(body);
  const column = async () =>
    ((await db()('workspaces').where({ id: t.workspaceId }).first()) as { slack_webhook: string | null }).slack_webhook;

  it('saves an https Slack webhook encrypted, and only ever shows it masked', async () => {
    const res = await patch({ slack_webhook: HOOK }).expect(200);
    const masked = 'https://hooks.slack.com/services/****5678';
    expect(res.body.slack_webhook).to.equal(masked);
    expect(
      (await request(app()).get(`/workspaces/${t.workspaceId}`).set(t.member.auth).expect(200)).body.slack_webhook,
    ).to.equal(masked);
    const listing = await request(app()).get('/workspaces/').set(t.owner.auth).expect(200);
    expect(listing.body[0].slack_webhook).to.equal(masked);
    expect(JSON.stringify(listing.body)).to.not.contain('abcdEFGHijkl');
    expect(await testDeps().redis.get(appKey('cache', 'workspaces', t.workspaceId))).to.not.contain('abcdEFGHijkl');

    const stored = (await column()) as string;
    expect(stored.startsWith('v1:')).to.equal(true);
    expect(stored).to.not.contain('hooks.slack.com');
    expect(stored).to.not.contain('abcdEFGHijkl');
  });

  it('accepts http on a listed loopback host outside production', async () => {
    const res = await patch({ slack_webhook: 'http://127.0.0.1:9/services/T1/B2/loopbackTOKEN' }).expect(200);
    expect(res.body.slack_webhook).to.equal('http://127.0.0.1:9/services/****OKEN');
  });

  it('refuses http on a loopback host in production', () => {
    const production = { ...getConfig(), isProduction: true };
    expect(isAllowedSlackWebhook('http://127.0.0.1:9/services/T1/B2/loopbackTOKEN', production)).to.equal(false);
    expect(isAllowedSlackWebhook(HOOK, production)).to.equal(true);
    expect(
      isAllowedSlackWebhook('http://127.0.0.1:9/services/T1/B2/loopbackTOKEN', { ...production, isProduction: false }),
    ).to.equal(true);
  });

  const refused: [string, string][] = [
    ['another host', 'https://evil.example.com/services/T1/B2/abc'],
    ['a host that only starts like Slack', 'https://hooks.slack.com.evil.example.com/services/T1/B2/abc'],
    ['a loopback host not listed', 'http://localhost:9/services/T1/B2/abc'],
    ['http on a non-loopback host', 'http://hooks.slack.com/services/T1/B2/abc'],
    ['the wrong path', 'https://hooks.slack.com/api/chat.postMessage'],
    ['credentials in the URL', 'https://user:pw@hooks.slack.com/services/T1/B2/abc'],
    ['a query string', 'https://hooks.slack.com/services/T1/B2/abc?x=1'],
    ['something that is no URL', 'hooks.slack.com/services/T1/B2/abc'],
  ];
  for (const [what, url] of refused) {
    it(`answers 422 naming slack_webhook for ${what}, and keeps the old one`, async () => {
      await patch({ slack_webhook: HOOK }).expect(200);
      const before = await column();
      const res = await patch({ slack_webhook: url }).expect(422);
      expect(res.body.detail[0].loc).to.deep.equal(['body', 'slack_webhook']);
      expect(JSON.stringify(res.body)).to.not.contain('abcdEFGHijkl');
      expect(await column()).to.equal(before);
    });
  }

  it('sets slack_status back to ok when the webhook is changed, and refuses slack_status from a client', async () => {
    await patch({ slack_webhook: HOOK }).expect(200);
    await db()('workspaces').where({ id: t.workspaceId }).update({ slack_status: 'broken' });
    expect(
      (await request(app()).get(`/workspaces/${t.workspaceId}`).set(t.owner.auth).expect(200)).body.slack_status,
    ).to.equal('broken');
    await patch({ slack_status: 'ok' }).expect(403);
    const res = await patch({ slack_webhook: HOOK.replace('5678', '9999') }).expect(200);
    expect(res.body).to.include({ slack_status: 'ok', slack_webhook: 'https://hooks.slack.com/services/****9999' });
  });

  it('answers 403 to a member', async () => {
    await request(app())
      .patch(`/workspaces/${t.workspaceId}`)
      .set(t.member.auth)
      .send({ slack_webhook: HOOK })
      .expect(403);
    expect(await column()).to.equal(null);
  });

  it('validates and encrypts a webhook given when the platform admin creates a workspace', async () => {
    const root = await superuser(app());
    await request(app())
      .post('/workspaces/')
      .set(root.auth)
      .send({ name: unique('ws'), slack_webhook: 'https://evil.example.com/services/T1/B2/abc' })
      .expect(422);
    const res = await request(app())
      .post('/workspaces/')
      .set(root.auth)
      .send({ name: unique('ws'), slack_webhook: HOOK })
      .expect(201);
    expect(res.body.slack_webhook).to.equal('https://hooks.slack.com/services/****5678');
    const row = (await db()('workspaces').where({ id: res.body.id }).first()) as { slack_webhook: string };
    expect(row.slack_webhook.startsWith('v1:')).to.equal(true);
  });
});
