// Adapter resolution as the dispatch workers live it: real BullMQ workers on the reminder queues, sending through
// the fake Twilio and SendGrid with the workspace's own account, the platform's credentials, or neither.
import { expect } from 'chai';
import { getConfig } from '@nudge/config';
import { insertChannelAccount, type NotificationRow } from '@nudge/db';
import { addDispatchJob, jobIdFor } from '@nudge/queue';
import { startFakeSendgrid, startFakeTwilio, type FakeSendgrid, type FakeTwilio } from '@nudge/testing';
import { startReminderHarness, type ReminderHarness } from '../helpers/reminder-harness';
import { createAdapterResolver } from '../../src/dispatch/adapter-resolver';

const PUBLIC = 'https://nudge.test';
const NO_TWILIO = {
  accountSid: undefined,
  authToken: undefined,
  apiUrl: undefined,
  smsFrom: undefined,
  whatsappFrom: undefined,
};

describe('adapter resolution (dispatch-email, dispatch-sms, dispatch-whatsapp)', function () {
  this.timeout(30_000);
  let platform: FakeTwilio;
  let sendgrid: FakeSendgrid;
  let h: ReminderHarness;

  before(async function () {
    this.timeout(60_000);
    [platform, sendgrid] = await Promise.all([startFakeTwilio(), startFakeSendgrid()]);
    const base = getConfig();
    h = await startReminderHarness({
      config: {
        publicBaseUrl: PUBLIC,
        usePlatformCredentials: true,
        sendgrid: { ...base.sendgrid, apiUrl: sendgrid.url },
        twilio: {
          accountSid: platform.accountSid,
          authToken: platform.authToken,
          apiUrl: platform.url,
          smsFrom: '+15550000001',
          whatsappFrom: '+15550000002',
        },
      },
    });
  });
  after(async () => {
    await Promise.allSettled([platform.close(), sendgrid.close()]);
  });

  const notify = async (
    harness: ReminderHarness,
    channel: 'email' | 'sms' | 'whatsapp',
    client: { email?: string | null; phone?: string; whatsapp?: string } = {},
  ) => {
    const ws = await harness.workspace();
    const clientId = await harness.client(ws, { name: 'Rita', ...client });
    const reminder = await harness.reminder(ws, [clientId], null, {
      channels: [channel],
      message_template: 'Hi {{client.name}}, {{reminder.title}}',
    });
    const [n] = await harness
      .db<NotificationRow>('notifications')
      .insert({
        workspace_id: ws,
        kind: 'reminder',
        reminder_id: reminder,
        client_id: clientId,
        channel,
        status: 'queued',
        dedupe_key: `reminder:${reminder}:${clientId}:${Date.now()}`,
        occurrence_at: new Date(Date.now() - 1000),
      })
      .returning('*');
    return { ws, n: n!, send: () => addDispatchJob(harness.producers, channel, n!.id, jobIdFor(n!.id, 0)) };
  };

  it('sends an SMS through the platform Twilio account, keeping the SID and naming the notification in the callback', async () => {
    const { ws, n, send } = await notify(h, 'sms', { phone: '+447700900123' });
    await send();
    const { notification, attempts } = await h.settled(ws, n.id);
    const msg = platform.messages.find((m) => m.form.To === '+447700900123');
    expect(msg?.form).to.include({
      From: '+15550000001',
      Body: 'Hi Rita, Quarterly VAT return',
      StatusCallback: `${PUBLIC}/webhooks/twilio/status?n=${n.id}`,
    });
    expect(notification).to.include({ status: 'sent', provider: 'twilio', provider_message_id: msg!.sid });
    expect(attempts.map((a) => a.outcome)).to.deep.equal(['sent']);
  });

  // One fake Twilio plays both accounts (TWILIO_API_URL is one URL): the sender tells them apart.
  it("sends WhatsApp through the workspace's own Twilio account and sender, not the platform's", async () => {
    const { ws, n, send } = await notify(h, 'whatsapp', { whatsapp: '+447700900456' });
    await insertChannelAccount(
      h.db,
      ws,
      { channel: 'whatsapp', provider: 'twilio', account_sid: platform.accountSid, whatsapp_from: '+15557770000' },
      { auth_token: platform.authToken },
    );
    await send();
    const { notification } = await h.settled(ws, n.id);
    expect(notification.last_error).to.equal(null);
    expect(notification.status).to.equal('sent');
    const msg = platform.messages.find((m) => m.form.To === 'whatsapp:+447700900456');
    expect(msg?.form.From).to.equal('whatsapp:+15557770000');
    expect(notification.provider_message_id).to.equal(msg!.sid);
  });

  it("sends email through the workspace's own SendGrid account with the notification id in custom_args", async () => {
    const { ws, n, send } = await notify(h, 'email', { email: 'rita@example.com' });
    await insertChannelAccount(
      h.db,
      ws,
      { channel: 'email', provider: 'sendgrid', from_email: 'office@firm.example', from_name: 'The Firm' },
      { api_key: sendgrid.apiKey },
    );
    await send();
    const { notification } = await h.settled(ws, n.id);
    const mail = sendgrid.mails.find((m) => (m.body.custom_args as Record<string, string>)?.notification_id === n.id);
    expect(mail, 'the mail SendGrid received').to.exist;
    expect(mail!.body.from).to.deep.equal({ email: 'office@firm.example', name: 'The Firm' });
    const headers = mail!.body.headers as Record<string, string>;
    expect(headers['List-Unsubscribe']).to.match(/^<https:\/\/nudge\.test\/unsubscribe\/[0-9a-f-]{36}\.[\w-]+>$/);
    expect(headers['List-Unsubscribe-Post']).to.equal('List-Unsubscribe=One-Click');
    expect(notification).to.include({ status: 'sent', provider: 'sendgrid', provider_message_id: mail!.messageId });
  });

  it('reuses one adapter per account version, builds a new one after the account changes, and closes them', async () => {
    const ws = await h.workspace();
    const account = await insertChannelAccount(
      h.db,
      ws,
      { channel: 'sms', provider: 'twilio', account_sid: platform.accountSid, sms_from: '+15557770001' },
      { auth_token: platform.authToken },
    );
    const resolver = createAdapterResolver({ db: h.db, config: h.ctx.config });
    const first = await resolver.text(ws, 'sms');
    const again = await resolver.text(ws, 'sms');
    expect(first).to.have.property('kind', 'text');
    expect((again as { adapter: unknown }).adapter).to.equal((first as { adapter: unknown }).adapter);
    await h
      .db('channel_accounts')
      .where({ id: account.id })
      .update({ sms_from: '+15557770002', updated_at: new Date(Date.now() + 1000) });
    const changed = await resolver.text(ws, 'sms');
    expect((changed as { adapter: unknown }).adapter).not.to.equal((first as { adapter: unknown }).adapter);
    expect(changed).to.include({ from: '+15557770002', account: `account:${account.id}` });
    await resolver.close();
  });

  describe('without credentials', () => {
    before(() => h.close());

    it('fails without a try as channel_not_configured when platform credentials are off and the workspace has none', async () => {
      const off = await startReminderHarness({ config: { usePlatformCredentials: false, twilio: NO_TWILIO } });
      try {
        const { ws, n, send } = await notify(off, 'sms', { phone: '+447700900789' });
        await send();
        const { notification, attempts } = await off.settled(ws, n.id);
        expect(notification).to.include({ status: 'failed', last_error: 'channel_not_configured' });
        expect(attempts).to.deep.equal([]);
      } finally {
        await off.close();
      }
    });

    it('records WhatsApp as sent by the sandbox when no Twilio credentials exist outside production', async () => {
      const sandboxed = await startReminderHarness({ config: { usePlatformCredentials: true, twilio: NO_TWILIO } });
      try {
        const { ws, n, send } = await notify(sandboxed, 'whatsapp', { whatsapp: '+447700900999' });
        await send();
        const { notification } = await sandboxed.settled(ws, n.id);
        expect(notification).to.include({ status: 'sent', provider: 'sandbox' });
      } finally {
        await sandboxed.close();
      }
    });
  });
});
