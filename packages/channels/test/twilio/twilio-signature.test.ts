import http from 'node:http';
import { expect } from 'chai';
import { startFakeTwilio, type FakeTwilio } from '@nudge/testing';
import { TwilioSmsAdapter, verifyTwilioSignature } from '@nudge/channels';

interface Received {
  url: string;
  signature: string | undefined;
  params: Record<string, string>;
}

/** A stand-in for the app's webhook routes: records each form POST with its signature. */
async function startReceiver(): Promise<{ base: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const sig = req.headers['x-twilio-signature'];
      received.push({
        url: req.url ?? '',
        signature: typeof sig === 'string' ? sig : undefined,
        params: Object.fromEntries(new URLSearchParams(raw)),
      });
      res.writeHead(200, { 'content-type': 'text/xml' }).end('<Response/>');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return { base, received, close: () => new Promise((r) => server.close(() => r())) };
}

describe('verifyTwilioSignature', () => {
  let fake: FakeTwilio;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeEach(async () => {
    fake = await startFakeTwilio();
    receiver = await startReceiver();
  });
  afterEach(async () => {
    await receiver.close();
    await fake.close();
  });

  describe('on an inbound message', () => {
    let url: string;
    let got: Received;
    beforeEach(async () => {
      url = `${receiver.base}/webhooks/twilio/inbound`;
      const res = await fake.inbound(url, '+15551230042', '+15550001111', 'STOP please.');
      expect(res.status).to.equal(200);
      got = receiver.received[0]!;
      expect(got.params).to.include({ From: '+15551230042', To: '+15550001111', Body: 'STOP please.' });
    });

    it('accepts the signature Twilio made', () => {
      expect(verifyTwilioSignature(fake.authToken, got.signature, url, got.params)).to.equal(true);
    });

    it('refuses it under another auth token', () => {
      expect(verifyTwilioSignature('0'.repeat(32), got.signature, url, got.params)).to.equal(false);
    });

    it('refuses it when a parameter was changed', () => {
      expect(verifyTwilioSignature(fake.authToken, got.signature, url, { ...got.params, Body: 'START' })).to.equal(
        false,
      );
    });

    it('refuses it for another URL', () => {
      expect(verifyTwilioSignature(fake.authToken, got.signature, `${url}?x=1`, got.params)).to.equal(false);
    });

    it('refuses a missing, empty or garbled signature, and an unparsable URL', () => {
      expect(verifyTwilioSignature(fake.authToken, undefined, url, got.params)).to.equal(false);
      expect(verifyTwilioSignature(fake.authToken, '', url, got.params)).to.equal(false);
      expect(verifyTwilioSignature(fake.authToken, 'bm90IGEgc2lnbmF0dXJl', url, got.params)).to.equal(false);
      expect(verifyTwilioSignature(fake.authToken, got.signature, 'not a url', got.params)).to.equal(false);
    });
  });

  it('accepts a WhatsApp inbound message, with its WhatsApp fields', async () => {
    const url = `${receiver.base}/webhooks/twilio/inbound`;
    await fake.inbound(url, 'whatsapp:+15551230042', 'whatsapp:+15550002222', 'help');
    const got = receiver.received[0]!;
    expect(got.params).to.include({ From: 'whatsapp:+15551230042', WaId: '15551230042', NumSegments: '1' });
    expect(verifyTwilioSignature(fake.authToken, got.signature, url, got.params)).to.equal(true);
  });

  it('accepts a status callback signed over its ?n= query, and refuses it without the query', async () => {
    const url = `${receiver.base}/webhooks/twilio/status?n=0b6f2c1e-1d2a-4c1b-9a0e-6f0e2f7a9b10`;
    const adapter = new TwilioSmsAdapter({
      accountSid: fake.accountSid,
      authToken: fake.authToken,
      apiUrl: fake.url,
      from: '+15550001111',
    });
    try {
      const { messageId } = await adapter.send({ to: '+15551230042', body: 'x', statusCallback: url });
      await fake.deliver(messageId, 'delivered');
      const got = receiver.received[0]!;
      expect(got.url).to.equal(url.slice(receiver.base.length));
      expect(got.params).to.include({ MessageSid: messageId, MessageStatus: 'delivered' });
      expect(verifyTwilioSignature(fake.authToken, got.signature, url, got.params)).to.equal(true);
      expect(verifyTwilioSignature(fake.authToken, got.signature, url.split('?')[0]!, got.params)).to.equal(false);
    } finally {
      await adapter.close();
    }
  });
});
