import { expect } from 'chai';
import { providerFailure } from '../provider-failure';
import { startFakeTwilio, type FakeTwilio } from '@nudge/testing';
import { lastErrorOf, PermanentProviderError, TransientProviderError, TwilioWhatsappAdapter } from '@nudge/channels';

const FROM = '+15550002222';
const message = { to: '+15551230042', body: 'Your invoice 7 is due on Friday 🙂' };

describe('TwilioWhatsappAdapter', () => {
  let fake: FakeTwilio;
  let adapter: TwilioWhatsappAdapter;
  beforeEach(async () => {
    fake = await startFakeTwilio();
    adapter = new TwilioWhatsappAdapter({
      accountSid: fake.accountSid,
      authToken: fake.authToken,
      apiUrl: fake.url,
      from: FROM,
      timeoutMs: 300,
    });
  });
  afterEach(async () => {
    await adapter.close();
    await fake.close();
  });

  it('writes both numbers whatsapp:+E.164 and passes the status callback through', async () => {
    const statusCallback = 'https://nudge.example/webhooks/twilio/status?n=n-1';
    const result = await adapter.send({ ...message, statusCallback });
    expect(fake.messages[0]!.form).to.deep.include({
      To: `whatsapp:${message.to}`,
      From: `whatsapp:${FROM}`,
      Body: message.body,
      StatusCallback: statusCallback,
    });
    expect(result).to.deep.equal({
      provider: 'twilio',
      channel: 'whatsapp',
      messageId: fake.messages[0]!.sid,
      status: 'queued',
      numSegments: 1,
    });
  });

  it('does not prefix a number that already carries whatsapp:', async () => {
    await adapter.send({ ...message, to: `whatsapp:${message.to}`, from: 'whatsapp:+15559990000' });
    expect(fake.messages[0]!.form).to.include({ To: `whatsapp:${message.to}`, From: 'whatsapp:+15559990000' });
  });

  it('counts a long WhatsApp message as one segment, as Twilio does', async () => {
    expect((await adapter.send({ ...message, body: 'ç'.repeat(500) })).numSegments).to.equal(1);
  });

  it('turns 63016 (outside the 24-hour session window) into a permanent template_required', async () => {
    const err = await providerFailure(adapter.send({ ...message, to: '+15551236301' }));
    expect(err).to.be.instanceOf(PermanentProviderError);
    expect(err).to.include({ code: 'template_required', providerCode: 63016, status: 400, undeliverable: false });
    expect(lastErrorOf(err)).to.equal('template_required (twilio 63016)');
    expect(err.message).to.not.contain('+15551236301');
  });

  it('turns 21211 into an undeliverable invalid_recipient', async () => {
    const err = await providerFailure(adapter.send({ ...message, to: '+15551230000' }));
    expect(err).to.include({ code: 'invalid_recipient', providerCode: 21211, undeliverable: true });
  });

  it('turns 21610 into recipient_opted_out', async () => {
    const err = await providerFailure(adapter.send({ ...message, to: '+15551230001' }));
    expect(err).to.include({ code: 'recipient_opted_out', providerCode: 21610 });
  });

  it('turns a 401 into auth_failed', async () => {
    fake.inject(401);
    const err = await providerFailure(adapter.send(message));
    expect(err).to.be.instanceOf(PermanentProviderError);
    expect(err).to.include({ code: 'auth_failed', status: 401 });
  });

  it('turns a 429 into rate_limited with its Retry-After', async () => {
    fake.inject({ status: 429, retryAfterSeconds: 2 });
    const err = await providerFailure(adapter.send(message));
    expect(err).to.be.instanceOf(TransientProviderError);
    expect(err).to.include({ code: 'rate_limited', retryAfterMs: 2000 });
  });

  it('turns a 503 into provider_unavailable with its Retry-After', async () => {
    fake.inject({ status: 503, retryAfterSeconds: 4 });
    const err = await providerFailure(adapter.send(message));
    expect(err).to.be.instanceOf(TransientProviderError);
    expect(err).to.include({ code: 'provider_unavailable', retryAfterMs: 4000 });
  });

  it('treats a 5xx even with a recipient error code as transient', async () => {
    fake.inject({ status: 500, body: { code: 21211, message: 'odd', status: 500 } });
    const err = await providerFailure(adapter.send(message));
    expect(err).to.be.instanceOf(TransientProviderError);
    expect(err.undeliverable).to.equal(false);
  });

  it('treats a hang as a timeout and a reset as a network failure', async () => {
    fake.inject('hang');
    fake.inject('reset');
    expect((await providerFailure(adapter.send(message))).code).to.equal('timeout');
    expect((await providerFailure(adapter.send(message))).code).to.equal('network');
  });
});
