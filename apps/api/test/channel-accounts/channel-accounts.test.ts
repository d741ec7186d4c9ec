import { expect } from 'chai';
import request from 'supertest';
import { getConfig } from '@nudge/config';
import { getLogger } from '@nudge/logger';
import { findUserById } from '@nudge/db';
import { Producers, QUEUES } from '@nudge/queue';
import { createApp } from '../../src/index';
import { AuditLog } from '../../src/services/audit';
import { ChannelAccountsService } from '../../src/services/channel-accounts.service';
import { ValidationFailed } from '../../src/errors/domain-errors';
import { testApp, testDeps, team, signUp, unique } from '../helpers';

type Team = Awaited<ReturnType<typeof team>>;

const SG_KEY = 'SG.abcdefghijklmnop.qrstuvwxyz0123456789';
const SID = `AC${'a1'.repeat(16)}`;
const TOKEN = 'f0'.repeat(16);

describe('/channel-accounts', () => {
  let t: Team;
  before(async function () {
    this.timeout(30_000);
    t = await team(testApp());
  });

  const post = (body: object, who = t.owner) => request(testApp()).post('/channel-accounts/').set(who.auth).send(body);

  describe('POST /channel-accounts/', () => {
    it('stores the secrets encrypted and answers only whether each is set', async () => {
      const res = await post({
        channel: 'email',
        provider: 'sendgrid',
        from_email: 'billing@acme.test',
        api_key: SG_KEY,
      }).expect(201);
      expect(res.body).to.include({ has_api_key: true, has_auth_token: false, channel: 'email', provider: 'sendgrid' });
      expect(JSON.stringify(res.body)).to.not.include(SG_KEY);
      const row = (await testDeps().db('channel_accounts').where({ id: res.body.id }).first()) as {
        credentials: string;
      };
      expect(row.credentials).to.not.include('SG.');
      const read = await request(testApp()).get(`/channel-accounts/${res.body.id}`).set(t.member.auth).expect(200);
      expect(JSON.stringify(read.body)).to.not.include(SG_KEY);
      await request(testApp()).delete(`/channel-accounts/${res.body.id}`).set(t.owner.auth).expect(204);
    });

    it('shows an SMTP URL without its password, and the Twilio SID and senders but not the token', async () => {
      const smtp = await post({
        channel: 'email',
        provider: 'smtp',
        from_email: 'a@acme.test',
        smtp_url: 'smtp://mailer:s3cret-pass@127.0.0.1:2525',
      }).expect(201);
      expect(smtp.body).to.include({ smtp_url: 'smtp://mailer:****@127.0.0.1:2525', has_smtp_password: true });
      const sms = await post({
        channel: 'sms',
        provider: 'twilio',
        account_sid: SID,
        auth_token: TOKEN,
        sms_from: '+14155550100',
      }).expect(201);
      expect(sms.body).to.include({ account_sid: SID, sms_from: '+14155550100', has_auth_token: true });
      expect(JSON.stringify(sms.body)).to.not.include(TOKEN);
      for (const id of [smtp.body.id, sms.body.id])
        await request(testApp()).delete(`/channel-accounts/${id}`).set(t.owner.auth).expect(204);
    });

    it('answers 422 naming a credential without its format, a field of another provider, or a missing one', async () => {
      const res = await post({
        channel: 'sms',
        provider: 'twilio',
        account_sid: 'nope',
        auth_token: 'short',
        sms_from: '07700900000',
        api_key: SG_KEY,
      }).expect(422);
      const fields = (res.body.detail as { loc: string[] }[]).map((d) => d.loc[1]).sort();
      expect(fields).to.deep.equal(['account_sid', 'api_key', 'auth_token', 'sms_from']);
      const wrong = await post({ channel: 'email', provider: 'twilio' }).expect(422);
      expect(wrong.body.detail[0].loc).to.deep.equal(['body', 'provider']);
      const missing = await post({ channel: 'email', provider: 'sendgrid', from_email: 'a@acme.test' }).expect(422);
      expect(missing.body.detail[0].loc).to.deep.equal(['body', 'api_key']);
    });

    it('accepts a credential of another format when STRICT_VALIDATION is off', async () => {
      const relaxed = createApp({ ...testDeps(), config: { ...getConfig(), strictValidation: false } });
      const res = await request(relaxed)
        .post('/channel-accounts/')
        .set(t.owner.auth)
        .send({ channel: 'email', provider: 'sendgrid', from_email: 'a@acme.test', api_key: 'not-a-sendgrid-key' })
        .expect(201);
      await request(relaxed).delete(`/channel-accounts/${res.body.id}`).set(t.owner.auth).expect(204);
    });

    it('answers 409 CHANNEL_ACCOUNT_ACTIVE_EXISTS for a second active account on a channel', async () => {
      const first = await post({ channel: 'email', provider: 'sendgrid', from_email: 'a@acme.test', api_key: SG_KEY });
      const res = await post({
        channel: 'email',
        provider: 'sendgrid',
        from_email: 'b@acme.test',
        api_key: SG_KEY,
      }).expect(409);
      expect(res.body.code).to.equal('CHANNEL_ACCOUNT_ACTIVE_EXISTS');
      await post({
        channel: 'email',
        provider: 'sendgrid',
        from_email: 'b@acme.test',
        api_key: SG_KEY,
        is_active: false,
      }).expect(201);
      await request(testApp()).delete(`/channel-accounts/${first.body.id}`).set(t.owner.auth).expect(204);
    });

    it('answers 403 to a member and 403 NO_WORKSPACE to a caller without one, who lists nothing', async () => {
      await post(
        { channel: 'email', provider: 'sendgrid', from_email: 'a@acme.test', api_key: SG_KEY },
        t.member,
      ).expect(403);
      const loner = await signUp(testApp());
      const res = await post(
        { channel: 'email', provider: 'sendgrid', from_email: 'a@a.test', api_key: SG_KEY },
        loner,
      ).expect(403);
      expect(res.body.code).to.equal('NO_WORKSPACE');
      const list = await request(testApp()).get('/channel-accounts/').set(loner.auth).expect(200);
      expect(list.body).to.deep.equal({ items: [], next_cursor: null });
    });
  });

  describe('PATCH /channel-accounts/{id}', () => {
    it('replaces a secret, keeps the others, and audits the change by field name only', async () => {
      const ws = await team(testApp());
      const created = await request(testApp())
        .post('/channel-accounts/')
        .set(ws.owner.auth)
        .send({
          channel: 'whatsapp',
          provider: 'twilio',
          account_sid: SID,
          auth_token: TOKEN,
          whatsapp_from: '+14155550101',
        })
        .expect(201);
      const newToken = 'ab'.repeat(16);
      const res = await request(testApp())
        .patch(`/channel-accounts/${created.body.id}`)
        .set(ws.admin.auth)
        .send({ auth_token: newToken, name: 'Main' })
        .expect(200);
      expect(res.body).to.include({ name: 'Main', has_auth_token: true, account_sid: SID });
      const audit = (await testDeps().db('audit_log').where({ workspace_id: ws.workspaceId })) as {
        action: string;
        details: unknown;
      }[];
      const actions = audit.map((a) => a.action);
      expect(actions).to.include.members(['channel_account_created', 'channel_account_updated']);
      const text = JSON.stringify(audit);
      expect(text).to.not.include(TOKEN).and.not.include(newToken);
      expect(text).to.include('auth_token');
    });
  });

  describe('GET /channel-accounts/', () => {
    it('pages by channel then id with an opaque cursor', async () => {
      const ws = await team(testApp());
      for (const channel of ['whatsapp', 'email', 'sms'] as const)
        await request(testApp())
          .post('/channel-accounts/')
          .set(ws.owner.auth)
          .send(
            channel === 'email'
              ? { channel, provider: 'sendgrid', from_email: 'a@acme.test', api_key: SG_KEY }
              : {
                  channel,
                  provider: 'twilio',
                  account_sid: SID,
                  auth_token: TOKEN,
                  [`${channel}_from`]: '+14155550102',
                },
          )
          .expect(201);
      const seen: string[] = [];
      let cursor: string | null = null;
      do {
        const res = await request(testApp())
          .get('/channel-accounts/')
          .query({ limit: 2, ...(cursor ? { cursor } : {}) })
          .set(ws.member.auth)
          .expect(200);
        seen.push(...(res.body.items as { channel: string }[]).map((a) => a.channel));
        cursor = res.body.next_cursor as string | null;
      } while (cursor);
      expect(seen).to.deep.equal(['email', 'sms', 'whatsapp']);
    });
  });

  describe('POST /channel-accounts/{id}/test', () => {
    it("answers 202 and queues a test naming only ids on the channel's queue, calling no provider", async () => {
      const ws = await team(testApp());
      const created = await request(testApp())
        .post('/channel-accounts/')
        .set(ws.owner.auth)
        .send({ channel: 'sms', provider: 'twilio', account_sid: SID, auth_token: TOKEN, sms_from: '+14155550103' })
        .expect(201);
      await request(testApp()).post(`/channel-accounts/${created.body.id}/test`).set(ws.member.auth).expect(403);
      const res = await request(testApp())
        .post(`/channel-accounts/${created.body.id}/test`)
        .set(ws.owner.auth)
        .expect(202);
      expect(res.body.last_test_status).to.equal('queued');
      const producers = new Producers();
      try {
        const jobs = await producers.queue(QUEUES.dispatchSms).getJobs(['waiting', 'active', 'completed', 'failed']);
        const mine = jobs.filter((j) => (j.data as { accountId?: string }).accountId === created.body.id);
        expect(mine.map((j) => j.data)).to.deep.equal([
          { kind: 'channel-test', accountId: created.body.id, userId: ws.owner.user.id },
        ]);
      } finally {
        await producers.close();
      }
    });
  });

  describe('the SMTP host rule in production', () => {
    it('refuses an SMTP host that is or resolves to a loopback, private or link-local address', async () => {
      const ws = await team(testApp());
      const user = await findUserById(testDeps().db, ws.owner.user.id);
      const service = new ChannelAccountsService({
        db: testDeps().db,
        config: { ...getConfig(), isProduction: true },
        audit: new AuditLog(testDeps().db, getLogger()),
        producers: testDeps().producers,
      });
      const principal = { user: user!, claims: {} as never };
      for (const host of ['127.0.0.1', 'localhost', '10.1.2.3', '169.254.169.254', '[::1]', '192.168.0.10']) {
        let caught: unknown;
        try {
          await service.create(principal, {
            channel: 'email',
            provider: 'smtp',
            from_email: 'a@acme.test',
            smtp_url: `smtp://u:p@${host}:25`,
          });
        } catch (err) {
          caught = err;
        }
        expect(caught, host).to.be.instanceOf(ValidationFailed);
        expect((caught as ValidationFailed).issues[0]?.type, host).to.equal('smtp_url.internal_address');
      }
      const saved = await service.create(principal, {
        channel: 'email',
        provider: 'smtp',
        from_email: 'a@acme.test',
        smtp_url: `smtp://u:p@93.184.215.14:587`,
        name: unique('public'),
      });
      expect(saved.smtp_url).to.equal('smtp://u:****@93.184.215.14:587');
    });
  });
});
