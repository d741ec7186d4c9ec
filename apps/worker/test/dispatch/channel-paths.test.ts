// Every transient and permanent path, per channel, through real dispatch workers: email through SendGrid's SDK to
// the fake SendGrid, SMS and WhatsApp through Twilio's SDK to the fake Twilio (platform credentials). A transient
// error is retried and the retry sends; a permanent one ends the notification at once (undeliverable for a bad
// address) with the stable code and the provider's own; a transient one that outlasts every try ends it failed and
// falls back to the reminder's next channel.
import { expect } from 'chai';
import { getConfig } from '@nudge/config';
import { SendgridEmailAdapter } from '@nudge/channels';
import { dispatchAttempts } from '@nudge/queue';
import {
  startFakeSendgrid,
  startFakeTwilio,
  waitFor,
  type FakeSendgrid,
  type FakeTwilio,
  type Fault,
} from '@nudge/testing';
import { startReminderHarness, type ClientOptions, type ReminderHarness } from '../helpers/reminder-harness';

type Channel = 'email' | 'sms' | 'whatsapp';

describe('dispatch paths per channel (SendGrid, Twilio SMS, Twilio WhatsApp)', function () {
  this.timeout(30_000);
  let sendgrid: FakeSendgrid;
  let twilio: FakeTwilio;
  let email: SendgridEmailAdapter;
  let h: ReminderHarness;

  before(async function () {
    this.timeout(60_000);
    [sendgrid, twilio] = await Promise.all([startFakeSendgrid(), startFakeTwilio()]);
    email = new SendgridEmailAdapter({ apiKey: sendgrid.apiKey, apiUrl: sendgrid.url, from: 'noreply@nudge.test' });
    h = await startReminderHarness({
      platformEmail: email,
      config: {
        publicBaseUrl: 'https://nudge.test',
        usePlatformCredentials: true,
        twilio: {
          accountSid: twilio.accountSid,
          authToken: twilio.authToken,
          apiUrl: twilio.url,
          smsFrom: '+15550000001',
          whatsappFrom: '+15550000002',
        },
      },
    });
  });
  after(async () => {
    await h.close();
    await email.close();
    await Promise.all([sendgrid.close(), twilio.close()]);
  });
  afterEach(() => {
    sendgrid.reset();
    twilio.reset();
  });

  const fake = (channel: Channel) => (channel === 'email' ? sendgrid : twilio);
  let k = 0;
  /** A client reachable on every channel, with a fresh address, unless `client` says otherwise. */
  const client = (over: ClientOptions = {}): ClientOptions => {
    const n = String(++k).padStart(4, '0');
    return { email: `pat-${k}@example.com`, phone: `+44770095${n}`, whatsapp: `+44770096${n}`, ...over };
  };
  const outcomes = async (ws: string, id: string) =>
    (await h.settled(ws, id)).attempts.map((a) => [a.outcome, a.error]);

  const transient: [Channel, Fault, string][] = [
    ['email', { status: 429, retryAfterSeconds: 1 }, 'rate_limited'],
    ['email', 503, 'provider_unavailable'],
    ['email', 'reset', 'network'],
    ['sms', { status: 429, retryAfterSeconds: 1 }, 'rate_limited'],
    ['sms', 500, 'provider_unavailable'],
    ['whatsapp', 503, 'provider_unavailable'],
    ['whatsapp', 'reset', 'network'],
  ];
  for (const [channel, fault, code] of transient)
    it(`retries ${channel} after a ${typeof fault === 'object' ? fault.status : fault} (${code}) and the retry sends`, async () => {
      fake(channel).inject(fault, 1);
      const { ws, n } = await h.notify([channel], client());
      expect(await outcomes(ws, n.id)).to.deep.equal([
        ['retry', code],
        ['sent', null],
      ]);
      expect((await h.settled(ws, n.id)).notification).to.include({ status: 'sent', last_error: null });
    });

  const permanent: [Channel, ClientOptions, Fault | undefined, string, string][] = [
    ['email', {}, 400, 'failed', 'invalid_request (sendgrid 400)'],
    ['email', {}, 401, 'failed', 'auth_failed (sendgrid 401)'],
    ['sms', { phone: '+447700950000' }, undefined, 'undeliverable', 'invalid_recipient (twilio 21211)'],
    ['sms', { phone: '+447700950002' }, undefined, 'undeliverable', 'invalid_recipient (twilio 21614)'],
    ['sms', {}, 401, 'failed', 'auth_failed (twilio 20003)'],
    ['whatsapp', { whatsapp: '+447700960000' }, undefined, 'undeliverable', 'invalid_recipient (twilio 21211)'],
    ['whatsapp', { whatsapp: '+447700960001' }, undefined, 'failed', 'recipient_opted_out (twilio 21610)'],
    ['whatsapp', { whatsapp: '+447700966301' }, undefined, 'failed', 'template_required (twilio 63016)'],
  ];
  for (const [channel, over, fault, status, lastError] of permanent)
    it(`ends ${channel} at once as ${status} on ${lastError}, without a retry`, async () => {
      if (fault !== undefined) fake(channel).inject(fault, 1);
      const { ws, n } = await h.notify([channel], client(over));
      const { notification, attempts } = await h.settled(ws, n.id);
      expect(notification).to.include({ status, last_error: lastError });
      expect(attempts.map((a) => a.outcome)).to.deep.equal([status]);
      expect(fake(channel).requests).to.have.length(1);
    });

  it("mails from the workspace's sender_name, a plain part and an escaped HTML part, and one-click unsubscribe", async () => {
    const ws = await h.workspace();
    await h.db('workspaces').where({ id: ws }).update({ sender_name: 'Acme Accounts' });
    const { n } = await h.notify(['email'], client({ name: 'Ann' }), {
      workspaceId: ws,
      message: 'Dear {{client.name}}, <b>fees</b> & more',
    });
    expect((await h.settled(ws, n.id)).notification.status).to.equal('sent');
    const body = sendgrid.mails[0]!.body;
    expect(body.from).to.deep.equal({ email: 'noreply@nudge.test', name: 'Acme Accounts' });
    expect(body.custom_args).to.deep.equal({ notification_id: n.id });
    const content = Object.fromEntries(
      (body.content as { type: string; value: string }[]).map((c) => [c.type, c.value]),
    );
    expect(content['text/plain']).to.contain('Dear Ann, <b>fees</b> & more');
    expect(content['text/html']).to.contain('Dear Ann, &lt;b&gt;fees&lt;/b&gt; &amp; more');
    expect(content['text/html']).not.to.contain('<b>');
    const headers = body.headers as Record<string, string>;
    expect(headers['List-Unsubscribe']).to.match(/^<https:\/\/nudge\.test\/unsubscribe\/[^>]+>$/);
    expect(headers['List-Unsubscribe-Post']).to.equal('List-Unsubscribe=One-Click');
  });

  it('fails an SMS whose every try meets a 503, then falls back once to email, which sends', async () => {
    twilio.setMode(503);
    const { ws, reminder, n } = await h.notify(['sms', 'email'], client());
    const rows = await waitFor(
      async () => {
        const all = await h.notificationsOf(reminder);
        return all.length === 2 && all.every((r) => !['queued', 'sending'].includes(r.status)) ? all : undefined;
      },
      { what: 'the SMS and its fallback to settle' },
    );
    const tries = dispatchAttempts();
    expect(await outcomes(ws, n.id)).to.deep.equal([
      ...Array.from({ length: tries - 1 }, () => ['retry', 'provider_unavailable']),
      ['failed', 'provider_unavailable (twilio 20500)'],
    ]);
    expect(twilio.requests).to.have.length(tries);
    const fallback = rows.find((r) => r.id !== n.id)!;
    expect(fallback).to.include({ channel: 'email', status: 'sent', fallback_of: n.id });
    expect(sendgrid.mails).to.have.length(1);
    expect(getConfig().dispatch.maxAttempts).to.equal(tries);
  });
});
