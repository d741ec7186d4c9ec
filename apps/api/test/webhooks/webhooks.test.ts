// The provider webhooks: Twilio status callbacks and inbound messages, SendGrid event batches, each signed as the
// provider signs it (the fakes' signers), against the real database.
import { expect } from 'chai';
import crypto, { randomUUID } from 'node:crypto';
import request from 'supertest';
import { getConfig, type Config } from '@nudge/config';
import { getDb, insertClient, type NotificationRow } from '@nudge/db';
import { createSendgridWebhookSigner, twilioSignature } from '@nudge/testing';
import { createApp } from '../../src/index';
import { clientFields } from '@nudge/testing';
import { testDeps } from '../helpers';

const PUBLIC = 'https://nudge.test';
const SID = `AC${'1'.repeat(32)}`;
const TOKEN = crypto.randomBytes(16).toString('hex');
const PLATFORM_SMS = '+15550000001';

describe('provider webhooks', () => {
  const db = getDb();
  const signer = createSendgridWebhookSigner();
  const base = getConfig();
  const config: Config = {
    ...base,
    publicBaseUrl: PUBLIC,
    twilio: { ...base.twilio, accountSid: SID, authToken: TOKEN, smsFrom: PLATFORM_SMS },
    sendgrid: { ...base.sendgrid, webhookPublicKey: signer.publicKeyBase64Der },
  };
  const app = createApp({ ...testDeps(), config });
  let ws: string;

  before(async () => {
    [{ id: ws }] = (await db('workspaces')
      .insert({ name: `hooks-${randomUUID()}`, sender_name: 'Acme Accounts' })
      .returning('id')) as [{ id: string }];
  });
  after(async () => db('workspaces').where({ id: ws }).delete());

  const client = (phone: string | null, email: string | null = null) =>
    insertClient(db, ws, clientFields({ phone, email }));

  const notification = async (channel: 'sms' | 'email', status: string, clientId: string | null = null) => {
    const [row] = await db<NotificationRow>('notifications')
      .insert({
        workspace_id: ws,
        kind: 'reminder',
        channel,
        status: status as NotificationRow['status'],
        client_id: clientId,
        dedupe_key: `hook:${randomUUID()}`,
      })
      .returning('*');
    return row!;
  };
  const statusOf = async (id: string) => ((await db('notifications').where({ id }).first()) as NotificationRow).status;

  const twilioPost = (path: string, params: Record<string, string>, signature?: string) => {
    const req = request(app).post(path).type('form').send(params);
    const sig = signature === undefined ? twilioSignature(TOKEN, `${PUBLIC}${path}`, params) : signature;
    return sig ? req.set('X-Twilio-Signature', sig) : req;
  };

  describe('POST /webhooks/twilio/status', () => {
    const callback = (n: string, status: string, extra: Record<string, string> = {}) =>
      twilioPost(`/webhooks/twilio/status?n=${n}`, {
        AccountSid: SID,
        MessageSid: `SM${'a'.repeat(32)}`,
        MessageStatus: status,
        ...extra,
      });

    it('moves a sent notification to delivered, and a duplicate changes nothing', async () => {
      const n = await notification('sms', 'sent');
      await callback(n.id, 'delivered').expect(204);
      expect(await statusOf(n.id)).to.equal('delivered');
      await callback(n.id, 'delivered').expect(204);
      expect(await statusOf(n.id)).to.equal('delivered');
    });

    it('never moves backwards: a late failed after delivered, or sent after delivered, is a no-op', async () => {
      const n = await notification('sms', 'sent');
      await callback(n.id, 'read').expect(204);
      await callback(n.id, 'undelivered', { ErrorCode: '30008' }).expect(204);
      expect(await statusOf(n.id)).to.equal('delivered');
    });

    it('ends a callback that beats the SID write (still sending) delivered', async () => {
      const n = await notification('sms', 'sending');
      await callback(n.id, 'delivered').expect(204);
      expect(await statusOf(n.id)).to.equal('delivered');
    });

    it('ends undelivered as undeliverable for an address error and failed otherwise', async () => {
      const bad = await notification('sms', 'sent');
      await callback(bad.id, 'undelivered', { ErrorCode: '30006' }).expect(204);
      expect(await db('notifications').where({ id: bad.id }).first()).to.include({
        status: 'undeliverable',
        last_error: 'invalid_recipient (twilio 30006)',
      });
      const other = await notification('sms', 'sent');
      await callback(other.id, 'failed', { ErrorCode: '30008' }).expect(204);
      expect(await statusOf(other.id)).to.equal('failed');
    });

    it('answers 400 without a signature and 401 for a wrong one, changing nothing', async () => {
      const n = await notification('sms', 'sent');
      const params = { AccountSid: SID, MessageStatus: 'delivered' };
      const res = await twilioPost(`/webhooks/twilio/status?n=${n.id}`, params, '').expect(400);
      expect(res.body.code).to.equal('WEBHOOK_SIGNATURE_MISSING');
      // Signed for another notification: the query string is part of what Twilio signs.
      const other = twilioSignature(TOKEN, `${PUBLIC}/webhooks/twilio/status?n=${randomUUID()}`, params);
      const wrong = await twilioPost(`/webhooks/twilio/status?n=${n.id}`, params, other).expect(401);
      expect(wrong.body.code).to.equal('WEBHOOK_SIGNATURE_INVALID');
      expect(await statusOf(n.id)).to.equal('sent');
    });

    it('answers 204 to a signed callback naming no notification we know', async () => {
      await callback('not-a-uuid', 'delivered').expect(204);
      await callback(randomUUID(), 'delivered').expect(204);
    });
  });

  describe('POST /webhooks/sendgrid/events', () => {
    const post = (events: unknown, opts: { timestamp?: number; signed?: string; headers?: boolean } = {}) => {
      const raw = typeof events === 'string' ? events : JSON.stringify(events);
      const req = request(app).post('/webhooks/sendgrid/events').set('Content-Type', 'application/json');
      if (opts.headers !== false) req.set(signer.headers(opts.signed ?? raw, opts.timestamp));
      return req.send(raw);
    };
    const event = (n: string, type: string) => ({
      email: 'pat@example.com',
      timestamp: Math.floor(Date.now() / 1000),
      event: type,
      sg_event_id: crypto.randomBytes(12).toString('base64url'),
      notification_id: n,
    });

    it('applies delivered once, however often the batch comes', async () => {
      const n = await notification('email', 'sent');
      const batch = [event(n.id, 'delivered')];
      const first = await post(batch).expect(200);
      expect(first.body).to.deep.equal({ received: 1, applied: 1 });
      expect(await statusOf(n.id)).to.equal('delivered');
      const again = await post(batch).expect(200);
      expect(again.body).to.deep.equal({ received: 1, applied: 0 });
    });

    it('bounces a notification and opts its client out of email, audited; a spam report opts out too', async () => {
      const c = await client(null, `pat-${randomUUID()}@example.com`);
      const n = await notification('email', 'sent', c.id);
      const queued = await notification('email', 'queued', c.id);
      await post([event(n.id, 'bounce')]).expect(200);
      expect(await statusOf(n.id)).to.equal('bounced');
      expect(await db('clients').where({ id: c.id }).first()).to.include({ opt_out_email: true });
      expect(await statusOf(queued.id)).to.equal('cancelled');
      const audit = await db('audit_log').where({ workspace_id: ws, target_id: c.id, action: 'client.opt_out' });
      expect(audit).to.have.length(1);

      const c2 = await client(null, `spam-${randomUUID()}@example.com`);
      const n2 = await notification('email', 'delivered', c2.id);
      await post([event(n2.id, 'spamreport')]).expect(200);
      expect(await db('clients').where({ id: c2.id }).first()).to.include({ opt_out_email: true });
      expect(await statusOf(n2.id)).to.equal('delivered');
    });

    it('fails a dropped mail, opts an unsubscribe out of email, and leaves an open alone, in one batch', async () => {
      const c = await client(null, `unsub-${randomUUID()}@example.com`);
      const dropped = await notification('email', 'sent');
      const unsubscribed = await notification('email', 'delivered', c.id);
      const opened = await notification('email', 'sent');
      const res = await post([
        event(dropped.id, 'dropped'),
        event(unsubscribed.id, 'unsubscribe'),
        event(opened.id, 'open'),
      ]).expect(200);
      expect(res.body).to.deep.equal({ received: 3, applied: 3 });
      expect(await db('notifications').where({ id: dropped.id }).first()).to.include({
        status: 'failed',
        last_error: 'dropped (sendgrid)',
      });
      expect(await statusOf(unsubscribed.id)).to.equal('delivered');
      expect(await db('clients').where({ id: c.id }).first()).to.include({ opt_out_email: true });
      expect(await statusOf(opened.id)).to.equal('sent');
    });

    it('answers 400 without signature headers, 401 for a tampered or stale batch, changing nothing', async () => {
      const n = await notification('email', 'sent');
      const batch = [event(n.id, 'delivered')];
      expect((await post(batch, { headers: false }).expect(400)).body.code).to.equal('WEBHOOK_SIGNATURE_MISSING');
      await post(batch, { signed: JSON.stringify([event(n.id, 'bounce')]) }).expect(401);
      await post(batch, { timestamp: Math.floor(Date.now() / 1000) - 600 }).expect(401);
      expect(await statusOf(n.id)).to.equal('sent');
    });

    it('answers 400 to a signed body that is not a JSON array, never 500', async () => {
      expect((await post('{not json').expect(400)).body.code).to.equal('WEBHOOK_MALFORMED');
      await post({ event: 'delivered' }).expect(400);
    });
  });

  describe('POST /webhooks/twilio/inbound', () => {
    const inbound = (from: string, body: string) =>
      twilioPost('/webhooks/twilio/inbound', { AccountSid: SID, From: from, To: PLATFORM_SMS, Body: body });

    it('opts the sender out on "Stop please." and cancels their queued SMS, then back in on START, audited', async () => {
      const phone = `+4477009${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}`;
      const c = await client(phone);
      const queued = await notification('sms', 'queued', c.id);
      const res = await inbound(phone, 'Stop please.').expect(200);
      expect(res.headers['content-type']).to.match(/^text\/xml/);
      expect(await db('clients').where({ id: c.id }).first()).to.include({ opt_out_sms: true });
      expect(await statusOf(queued.id)).to.equal('cancelled');
      await inbound(phone, 'START').expect(200);
      expect(await db('clients').where({ id: c.id }).first()).to.include({ opt_out_sms: false });
      const actions = (await db('audit_log').where({ workspace_id: ws, target_id: c.id }).orderBy('created_at')).map(
        (r: { action: string }) => r.action,
      );
      expect(actions).to.deep.equal(['client.opt_out', 'client.opt_in']);
    });

    it('answers HELP with TwiML naming the workspace, and an ordinary reply with empty TwiML', async () => {
      const phone = `+4477008${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}`;
      await client(phone);
      const help = await inbound(phone, 'help').expect(200);
      expect(help.text).to.contain('<Message>Acme Accounts');
      const plain = await inbound(phone, "Don't stop, thanks").expect(200);
      expect(plain.text).not.to.contain('<Message>');
    });

    it('answers 400 without a signature and 401 for a wrong one, opting nobody out', async () => {
      const phone = `+4477007${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}`;
      const c = await client(phone);
      const params = { AccountSid: SID, From: phone, To: PLATFORM_SMS, Body: 'STOP' };
      await twilioPost('/webhooks/twilio/inbound', params, '').expect(400);
      await twilioPost('/webhooks/twilio/inbound', params, 'bm90IGl0').expect(401);
      expect(await db('clients').where({ id: c.id }).first()).to.include({ opt_out_sms: false });
    });
  });
});
