// Twilio webhooks when workspaces send through their own Twilio accounts as well as the platform's: a webhook is
// checked against the auth token of the account that sent (the workspace's own, or the platform's), and a STOP
// counts where its number sends for: the platform's shared number for every workspace that sends from it, a
// workspace's own number for that workspace alone.
import { expect } from 'chai';
import crypto, { randomUUID } from 'node:crypto';
import request from 'supertest';
import { getConfig, type Config } from '@nudge/config';
import { getDb, insertChannelAccount, insertClient, type NotificationRow } from '@nudge/db';
import { twilioSignature } from '@nudge/testing';
import { createApp } from '../../src/index';
import { clientFields } from '@nudge/testing';
import { testDeps } from '../helpers';

const PUBLIC = 'https://nudge.test';
const hex = (bytes: number) => crypto.randomBytes(bytes).toString('hex');
const sid = () => `AC${hex(16)}`;
const number = () => `+1555${String(crypto.randomInt(0, 1e7)).padStart(7, '0')}`;

describe('Twilio webhooks with workspaces on their own Twilio accounts', () => {
  const db = getDb();
  const base = getConfig();
  const platform = { sid: sid(), token: hex(16), sms: number() };
  const config: Config = {
    ...base,
    publicBaseUrl: PUBLIC,
    twilio: { ...base.twilio, accountSid: platform.sid, authToken: platform.token, smsFrom: platform.sms },
  };
  const app = createApp({ ...testDeps(), config });

  /** A workspace, with its own Twilio SMS account when `own` is given. */
  const workspace = async (own?: { sid: string; token: string; sms: string }) => {
    const [{ id }] = (await db('workspaces')
      .insert({ name: `twilio-acct-${randomUUID()}`, sender_name: 'Acme' })
      .returning('id')) as [{ id: string }];
    if (own)
      await insertChannelAccount(
        db,
        id,
        { channel: 'sms', provider: 'twilio', account_sid: own.sid, sms_from: own.sms, is_active: true },
        { auth_token: own.token },
      );
    return id;
  };
  const client = async (ws: string, phone: string) => (await insertClient(db, ws, clientFields({ phone }))).id;
  const notification = async (ws: string, status: NotificationRow['status'], clientId: string | null = null) => {
    const [row] = await db<NotificationRow>('notifications')
      .insert({
        workspace_id: ws,
        kind: 'reminder',
        channel: 'sms',
        status,
        client_id: clientId,
        dedupe_key: randomUUID(),
      })
      .returning('*');
    return row!;
  };
  const statusOf = async (id: string) => ((await db('notifications').where({ id }).first()) as NotificationRow).status;
  const optedOut = async (clientId: string) =>
    ((await db('clients').where({ id: clientId }).first()) as { opt_out_sms: boolean }).opt_out_sms;
  const audits = (ws: string, clientId: string) =>
    db('audit_log')
      .where({ workspace_id: ws, target_id: clientId })
      .select<{ action: string; details: Record<string, unknown> }[]>('action', 'details');

  const post = (path: string, params: Record<string, string>, token: string) =>
    request(app)
      .post(path)
      .type('form')
      .set('X-Twilio-Signature', twilioSignature(token, `${PUBLIC}${path}`, params))
      .send(params);

  describe('POST /webhooks/twilio/status', () => {
    const own = { sid: sid(), token: hex(16), sms: number() };
    const other = { sid: sid(), token: hex(16), sms: number() };
    let ws: string;
    before(async () => {
      ws = await workspace(own);
      await workspace(other);
    });

    const callback = (n: string, accountSid: string, token: string) =>
      post(
        `/webhooks/twilio/status?n=${n}`,
        { AccountSid: accountSid, MessageSid: `SM${hex(16)}`, MessageStatus: 'delivered' },
        token,
      );

    it("accepts a callback signed with the workspace's own auth token", async () => {
      const n = await notification(ws, 'sent');
      await callback(n.id, own.sid, own.token).expect(204);
      expect(await statusOf(n.id)).to.equal('delivered');
    });

    it("answers 401 to one signed with another workspace's token, changing nothing", async () => {
      const n = await notification(ws, 'sent');
      const res = await callback(n.id, own.sid, other.token).expect(401);
      expect(res.body.code).to.equal('WEBHOOK_SIGNATURE_INVALID');
      expect(await statusOf(n.id)).to.equal('sent');
    });

    it("answers 401 to a callback about a platform-sent notification signed with a workspace's token", async () => {
      const n = await notification(await workspace(), 'sent');
      await callback(n.id, platform.sid, own.token).expect(401);
      expect(await statusOf(n.id)).to.equal('sent');
      await callback(n.id, platform.sid, platform.token).expect(204);
      expect(await statusOf(n.id)).to.equal('delivered');
    });
  });

  describe('POST /webhooks/twilio/inbound', () => {
    const stop = (to: string, accountSid: string, token: string, from: string, body = 'STOP') =>
      post('/webhooks/twilio/inbound', { AccountSid: accountSid, From: from, To: to, Body: body }, token);

    it("opts out on a STOP to the workspace's own number, signed with its token; another token is refused", async () => {
      const own = { sid: sid(), token: hex(16), sms: number() };
      const ws = await workspace(own);
      const phone = number();
      const c = await client(ws, phone);
      await stop(own.sms, own.sid, hex(16), phone).expect(401);
      await stop(own.sms, own.sid, platform.token, phone).expect(401);
      expect(await optedOut(c)).to.equal(false);
      await stop(own.sms, own.sid, own.token, phone).expect(200);
      expect(await optedOut(c)).to.equal(true);
    });

    it('opts a STOP to the shared platform number out in every workspace that sends from it, and only those', async () => {
      const own = { sid: sid(), token: hex(16), sms: number() };
      const [shared1, shared2, ownWs] = [await workspace(), await workspace(), await workspace(own)];
      const phone = number();
      const [c1, c2, c3] = [await client(shared1, phone), await client(shared2, phone), await client(ownWs, phone)];
      const [q1, q2, q3] = [
        await notification(shared1, 'queued', c1),
        await notification(shared2, 'queued', c2),
        await notification(ownWs, 'queued', c3),
      ];

      await stop(platform.sms, platform.sid, platform.token, phone, 'Stop please.').expect(200);
      expect([await optedOut(c1), await optedOut(c2), await optedOut(c3)]).to.deep.equal([true, true, false]);
      expect([await statusOf(q1.id), await statusOf(q2.id), await statusOf(q3.id)]).to.deep.equal([
        'cancelled',
        'cancelled',
        'queued',
      ]);
      for (const [ws, c] of [
        [shared1, c1],
        [shared2, c2],
      ] as const) {
        const rows = await audits(ws, c);
        expect(rows.map((r) => r.action)).to.deep.equal(['client.opt_out']);
        expect(rows[0]?.details).to.include({ channel: 'sms', cancelled: 1 });
      }
      expect(await audits(ownWs, c3)).to.deep.equal([]);
    });

    it("opts a STOP to a workspace's own number out in that workspace only", async () => {
      const own = { sid: sid(), token: hex(16), sms: number() };
      const [ownWs, shared] = [await workspace(own), await workspace()];
      const phone = number();
      const [mine, theirs] = [await client(ownWs, phone), await client(shared, phone)];
      const [qMine, qTheirs] = [
        await notification(ownWs, 'queued', mine),
        await notification(shared, 'queued', theirs),
      ];

      await stop(own.sms, own.sid, own.token, phone).expect(200);
      expect([await optedOut(mine), await optedOut(theirs)]).to.deep.equal([true, false]);
      expect([await statusOf(qMine.id), await statusOf(qTheirs.id)]).to.deep.equal(['cancelled', 'queued']);
      expect((await audits(ownWs, mine)).map((r) => r.action)).to.deep.equal(['client.opt_out']);
      expect(await audits(shared, theirs)).to.deep.equal([]);
    });
  });
});
