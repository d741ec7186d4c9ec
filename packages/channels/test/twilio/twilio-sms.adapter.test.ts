import { expect } from 'chai';
import { providerFailure } from '../provider-failure';
import { rejectionOf, startFakeTwilio, type FakeTwilio } from '@nudge/testing';
import {
  lastErrorOf,
  PermanentProviderError,
  TransientProviderError,
  TwilioMessagingClient,
  TwilioSmsAdapter,
  TwilioWhatsappAdapter,
} from '@nudge/channels';

const FROM = '+15550001111';
const message = {
  to: '+15551230042',
  body: 'Invoice 7 (25 EUR) is due on Friday',
  statusCallback: 'https://nudge.example/webhooks/twilio/status?n=0b6f2c1e-1d2a-4c1b-9a0e-6f0e2f7a9b10',
};

function expectNoSecrets(err: Error, fake: FakeTwilio, to = message.to): void {
  for (const secret of [fake.authToken, to, message.body]) {
    expect(err.message).to.not.contain(secret);
    expect(JSON.stringify(err)).to.not.contain(secret);
  }
}

describe('TwilioSmsAdapter', () => {
  let fake: FakeTwilio;
  let adapter: TwilioSmsAdapter;
  beforeEach(async () => {
    fake = await startFakeTwilio();
    adapter = new TwilioSmsAdapter({
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

  it('sends To, From, Body and StatusCallback through the SDK and keeps the SID and segment count', async () => {
    const result = await adapter.send(message);
    expect(fake.messages).to.have.length(1);
    const sent = fake.messages[0]!;
    expect(sent.form).to.deep.include({
      To: message.to,
      From: FROM,
      Body: message.body,
      StatusCallback: message.statusCallback,
    });
    expect(fake.requests[0]!.path).to.equal(`/2010-04-01/Accounts/${fake.accountSid}/Messages.json`);
    expect(result).to.deep.equal({
      provider: 'twilio',
      channel: 'sms',
      messageId: sent.sid,
      status: 'queued',
      numSegments: 1,
    });
  });

  it('reports the segments Twilio counts: two for 161 GSM-7 characters, two for 71 UCS-2 ones', async () => {
    expect((await adapter.send({ ...message, body: 'a'.repeat(161) })).numSegments).to.equal(2);
    expect((await adapter.send({ ...message, body: 'ç'.repeat(71) })).numSegments).to.equal(2);
  });

  it("uses the message's own sender over the default, and sends no StatusCallback when none is given", async () => {
    await adapter.send({ to: message.to, body: 'x', from: '+15559990000' });
    expect(fake.messages[0]!.form.From).to.equal('+15559990000');
    expect(fake.messages[0]!.form).to.not.have.property('StatusCallback');
  });

  it('keeps its connections alive: four consecutive sends open two at most', async () => {
    // undici's pool may hand the next request a second connection while the first is still settling its answer.
    for (let i = 0; i < 4; i += 1) await adapter.send(message);
    expect(fake.requests).to.have.length(4);
    expect(fake.requests[0]!.remotePort).to.be.a('number');
    expect(new Set(fake.requests.map((r) => r.remotePort)).size).to.be.at.most(2);
    expect(fake.requests[0]!.headers.connection).to.equal('keep-alive');
  });

  describe('permanent failures', () => {
    it('turns 21211 into an undeliverable invalid_recipient, recorded as "invalid_recipient (twilio 21211)"', async () => {
      const to = '+15551230000';
      const err = await providerFailure(adapter.send({ ...message, to }));
      expect(err).to.be.instanceOf(PermanentProviderError);
      expect(err).to.include({
        provider: 'twilio',
        transient: false,
        code: 'invalid_recipient',
        providerCode: 21211,
        status: 400,
        undeliverable: true,
      });
      expect(lastErrorOf(err)).to.equal('invalid_recipient (twilio 21211)');
      expectNoSecrets(err, fake, to);
    });

    it('turns 21614 (not a mobile number) into an undeliverable invalid_recipient', async () => {
      const err = await providerFailure(adapter.send({ ...message, to: '+15551230002' }));
      expect(err).to.be.instanceOf(PermanentProviderError);
      expect(err).to.include({ code: 'invalid_recipient', providerCode: 21614, undeliverable: true });
    });

    it('turns 21610 (the recipient replied STOP) into recipient_opted_out, which is not an address error', async () => {
      const err = await providerFailure(adapter.send({ ...message, to: '+15551230001' }));
      expect(err).to.be.instanceOf(PermanentProviderError);
      expect(err).to.include({ code: 'recipient_opted_out', providerCode: 21610, undeliverable: false });
      expect(lastErrorOf(err)).to.equal('recipient_opted_out (twilio 21610)');
    });

    it('turns any other 400 into invalid_request', async () => {
      fake.inject({ status: 400, body: { code: 21602, message: 'Message body is required.', status: 400 } });
      const err = await providerFailure(adapter.send(message));
      expect(err).to.be.instanceOf(PermanentProviderError);
      expect(err).to.include({ code: 'invalid_request', providerCode: 21602, status: 400, undeliverable: false });
      expect(err.message).to.contain('Message body is required');
    });

    it('turns a refused token (401, 20003) into auth_failed without showing the token', async () => {
      const wrong = new TwilioSmsAdapter({
        accountSid: fake.accountSid,
        authToken: 'f'.repeat(32),
        apiUrl: fake.url,
        from: FROM,
      });
      try {
        const err = await providerFailure(wrong.send(message));
        expect(err).to.be.instanceOf(PermanentProviderError);
        expect(err).to.include({ code: 'auth_failed', status: 401, providerCode: 20003 });
        expect(JSON.stringify(err) + err.message).to.not.contain('f'.repeat(32));
      } finally {
        await wrong.close();
      }
    });

    it('turns an argument the SDK refuses before any request into invalid_request', async () => {
      const err = await providerFailure(adapter.send({ ...message, to: '' }));
      expect(err).to.be.instanceOf(PermanentProviderError);
      expect(err.code).to.equal('invalid_request');
    });
  });

  describe('transient failures', () => {
    it('turns a 429 into rate_limited with its Retry-After', async () => {
      fake.inject({ status: 429, retryAfterSeconds: 7 });
      const err = await providerFailure(adapter.send(message));
      expect(err).to.be.instanceOf(TransientProviderError);
      expect(err).to.include({ code: 'rate_limited', status: 429, retryAfterMs: 7000, providerCode: 20429 });
      expect(lastErrorOf(err)).to.equal('rate_limited (twilio 20429)');
      expectNoSecrets(err, fake);
    });

    for (const status of [500, 502, 503]) {
      it(`turns a ${status} into provider_unavailable`, async () => {
        fake.inject(status);
        const err = await providerFailure(adapter.send(message));
        expect(err).to.be.instanceOf(TransientProviderError);
        expect(err).to.include({ code: 'provider_unavailable', status });
      });
    }

    it('keeps the Retry-After of a 503', async () => {
      fake.inject({ status: 503, retryAfterSeconds: 30 });
      const err = await providerFailure(adapter.send(message));
      expect(err).to.include({ code: 'provider_unavailable', retryAfterMs: 30_000 });
    });

    it('gives up on a Twilio that never answers, as a timeout', async () => {
      fake.inject('hang');
      const err = await providerFailure(adapter.send(message));
      expect(err).to.be.instanceOf(TransientProviderError);
      expect(err.code).to.equal('timeout');
      expect(fake.requests[0]!.outcome).to.equal('hang');
    });

    it('treats a reset connection as a network failure', async () => {
      fake.inject('reset');
      const err = await providerFailure(adapter.send(message));
      expect(err).to.be.instanceOf(TransientProviderError);
      expect(err.code).to.equal('network');
      expect(lastErrorOf(err)).to.equal('network (twilio UND_ERR_SOCKET)');
    });

    it('treats a refused connection as a network failure', async () => {
      await fake.close();
      const err = await providerFailure(adapter.send(message));
      expect(err).to.be.instanceOf(TransientProviderError);
      expect(err.code).to.equal('network');
    });

    it('sends again after a transient failure, on the same adapter', async () => {
      fake.inject(503);
      await providerFailure(adapter.send(message));
      const result = await adapter.send(message);
      expect(result.messageId).to.equal(fake.messages[0]!.sid);
    });
  });

  describe('sharing and closing', () => {
    it('lets an SMS and a WhatsApp adapter share one client, which only its owner closes', async () => {
      const client = new TwilioMessagingClient({
        accountSid: fake.accountSid,
        authToken: fake.authToken,
        apiUrl: fake.url,
      });
      const sms = new TwilioSmsAdapter({ client, from: FROM });
      const whatsapp = new TwilioWhatsappAdapter({ client, from: FROM });
      await sms.send(message);
      await sms.close();
      await whatsapp.send(message);
      expect(fake.messages.map((m) => m.form.To)).to.deep.equal([message.to, `whatsapp:${message.to}`]);
      await client.close();
      expect(await rejectionOf(whatsapp.send(message))).to.match(/closed/);
    });

    it('refuses to send once closed', async () => {
      await adapter.close();
      expect(await rejectionOf(adapter.send(message))).to.match(/closed/);
      expect(fake.requests).to.have.length(0);
    });
  });
});
