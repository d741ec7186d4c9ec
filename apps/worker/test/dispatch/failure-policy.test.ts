// The one failure policy of every dispatch queue, on reminder SMS, WhatsApp and email sent by real BullMQ workers
// through the fake Twilio (platform credentials) and the sandbox outbox: transient errors are retried, permanent
// ones end the notification at once (undeliverable for a bad address), and a failure falls back once to the next
// channel the reminder lists.
import { expect } from 'chai';
import { getConfig } from '@nudge/config';
import { type NotificationRow } from '@nudge/db';
import { addDispatchJob, jobIdFor } from '@nudge/queue';
import { startFakeTwilio, waitFor, type FakeTwilio } from '@nudge/testing';
import { startReminderHarness, type ClientOptions, type ReminderHarness } from '../helpers/reminder-harness';

describe('the dispatch failure policy (reminders by SMS, WhatsApp and email)', function () {
  this.timeout(30_000);
  let twilio: FakeTwilio;
  let h: ReminderHarness;

  before(async function () {
    this.timeout(60_000);
    twilio = await startFakeTwilio();
    h = await startReminderHarness({
      config: {
        publicBaseUrl: 'https://nudge.test',
        usePlatformCredentials: true,
        sendgrid: { ...getConfig().sendgrid, apiKey: undefined },
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
    await twilio.close();
  });
  afterEach(() => twilio.reset());

  const notify = (
    channels: ('email' | 'sms' | 'whatsapp')[],
    client: ClientOptions,
    status: NotificationRow['status'] = 'queued',
  ) => h.notify(channels, client, { status });

  it('retries an SMS after a 503 and records it sent on the second try', async () => {
    twilio.inject(503, 1);
    const { ws, n } = await notify(['sms'], { phone: '+447700900111' });
    const { notification, attempts } = await h.settled(ws, n.id);
    expect(notification).to.include({ status: 'sent', provider: 'twilio', last_error: null });
    expect(attempts.map((a) => [a.outcome, a.error])).to.deep.equal([
      ['retry', 'provider_unavailable'],
      ['sent', null],
    ]);
    expect(twilio.messages.filter((m) => m.form.To === '+447700900111')).to.have.length(1);
  });

  it('ends an SMS to an invalid number undeliverable at once, keeping both codes, with no fallback to fall to', async () => {
    const { ws, reminder, n } = await notify(['sms'], { phone: '+447700900000', email: null });
    const { notification, attempts } = await h.settled(ws, n.id);
    expect(notification).to.include({ status: 'undeliverable', last_error: 'invalid_recipient (twilio 21211)' });
    expect(attempts.map((a) => a.outcome)).to.deep.equal(['undeliverable']);
    expect(await h.notificationsOf(reminder)).to.have.length(1);
  });

  it('ends an SMS to a number that replied STOP failed, with the provider code', async () => {
    const { ws, n } = await notify(['sms'], { phone: '+447700900001', email: null });
    const { notification } = await h.settled(ws, n.id);
    expect(notification).to.include({ status: 'failed', last_error: 'recipient_opted_out (twilio 21610)' });
  });

  it('falls back WhatsApp → SMS → email, one fallback each, linked to the one it replaces', async () => {
    const { ws, reminder, n } = await notify(['whatsapp', 'sms', 'email'], {
      whatsapp: '+447700906301',
      phone: '+447700900000',
      email: 'farah@example.com',
    });
    const rows = await waitFor(
      async () => {
        const all = await h.notificationsOf(reminder);
        return all.length === 3 && all.every((r) => !['queued', 'sending'].includes(r.status)) ? all : undefined;
      },
      { what: 'the fallback chain to settle' },
    );
    const byChannel = Object.fromEntries(rows.map((r) => [r.channel, r]));
    expect(byChannel.whatsapp).to.include({
      id: n.id,
      status: 'failed',
      last_error: 'template_required (twilio 63016)',
    });
    expect(byChannel.sms).to.include({
      status: 'undeliverable',
      fallback_of: n.id,
      last_error: 'invalid_recipient (twilio 21211)',
    });
    expect(byChannel.email).to.include({ status: 'sent', fallback_of: byChannel.sms!.id, provider: 'sandbox' });
    expect((await h.mails()).filter((m) => m.includes('Hello Farah'))).to.have.length(1);

    // The failure handled again (a second job for the first notification) creates no second fallback.
    await addDispatchJob(h.producers, 'whatsapp', n.id, jobIdFor(n.id, 1));
    const { notification } = await h.settled(ws, n.id);
    expect(notification.status).to.equal('failed');
    expect(await h.notificationsOf(reminder)).to.have.length(3);
  });

  it('does not fall back to a channel the client opted out of', async () => {
    const { ws, reminder, n } = await notify(['sms', 'email'], {
      phone: '+447700900000',
      email: 'quiet@example.com',
      opt_out_email: true,
    });
    await h.settled(ws, n.id);
    expect(await h.notificationsOf(reminder)).to.have.length(1);
  });

  it('never sends again a notification found sending: it records an unknown attempt and ends outcome_unknown', async () => {
    const { ws, reminder, n } = await notify(
      ['sms', 'email'],
      { phone: '+447700900222', email: 'x@example.com' },
      'sending',
    );
    const { notification, attempts } = await h.settled(ws, n.id);
    expect(notification).to.include({ status: 'failed', last_error: 'outcome_unknown' });
    expect(attempts.map((a) => [a.outcome, a.error])).to.deep.equal([['unknown', 'outcome_unknown']]);
    expect(twilio.messages.filter((m) => m.form.To === '+447700900222')).to.have.length(0);
    // No fallback either: the first message may well have arrived.
    expect(await h.notificationsOf(reminder)).to.have.length(1);
  });
});
