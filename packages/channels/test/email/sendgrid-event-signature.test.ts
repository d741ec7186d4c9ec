import crypto from 'node:crypto';
import http from 'node:http';
import { EventWebhook } from '@sendgrid/eventwebhook';
import { expect } from 'chai';
import { createSendgridWebhookSigner, startFakeSendgrid, type FakeSendgrid } from '@nudge/testing';
import {
  SENDGRID_SIGNATURE_HEADER,
  SENDGRID_TIMESTAMP_HEADER,
  SendgridEmailAdapter,
  verifySendgridEventSignature,
} from '@nudge/channels';

interface Received {
  raw: Buffer;
  signature: string | undefined;
  timestamp: string | undefined;
}

async function startReceiver(): Promise<{ url: string; received: Received[]; close: () => Promise<void> }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const h = (name: string) => {
        const v = req.headers[name.toLowerCase()];
        return typeof v === 'string' ? v : undefined;
      };
      received.push({
        raw: Buffer.concat(chunks),
        signature: h(SENDGRID_SIGNATURE_HEADER),
        timestamp: h(SENDGRID_TIMESTAMP_HEADER),
      });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/webhooks/sendgrid/events`;
  return { url, received, close: () => new Promise((r) => server.close(() => r())) };
}

describe('verifySendgridEventSignature', () => {
  let fake: FakeSendgrid;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let key: string;
  let batch: Received;
  let now: number;
  before(async () => {
    fake = await startFakeSendgrid();
    receiver = await startReceiver();
    key = fake.signer.publicKeyBase64Der;
    const adapter = new SendgridEmailAdapter({ apiKey: fake.apiKey, apiUrl: fake.url, from: 'noreply@nudge.test' });
    await adapter.send({ to: 'ada@example.com', subject: 'S', text: 'T', customArgs: { notification_id: 'n-1' } });
    await adapter.close();
    const mail = fake.mails[0]!;
    // Non-ASCII in the body: the signature covers bytes, not a re-encoded string.
    const events = [fake.eventFor(mail, 'delivered'), fake.eventFor(mail, 'bounce', { reason: 'Boîte pleine' })];
    await fake.postEvents(receiver.url, events);
    batch = receiver.received[0]!;
    now = Number(batch.timestamp) * 1000;
  });
  after(async () => {
    await receiver.close();
    await fake.close();
  });

  it('accepts a signed batch from the fake, as @sendgrid/eventwebhook does', () => {
    expect(verifySendgridEventSignature(key, batch.signature, batch.timestamp, batch.raw, { now })).to.equal(true);
    const ew = new EventWebhook();
    expect(ew.verifySignature(ew.convertPublicKeyToECDSA(key), batch.raw, batch.signature!, batch.timestamp!)).to.equal(
      true,
    );
  });

  it('accepts the raw body as a string too, and a PEM key', () => {
    const pem = crypto
      .createPublicKey({ key: Buffer.from(key, 'base64'), format: 'der', type: 'spki' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    expect(verifySendgridEventSignature(pem, batch.signature, batch.timestamp, batch.raw.toString('utf8'), { now })).to
      .be.true;
  });

  it('carries the events with custom_args as top-level fields', () => {
    const events = JSON.parse(batch.raw.toString('utf8')) as Array<Record<string, unknown>>;
    expect(events.map((e) => [e.event, e.notification_id])).to.deep.equal([
      ['delivered', 'n-1'],
      ['bounce', 'n-1'],
    ]);
    expect(events[0]!.sg_event_id).to.not.equal(events[1]!.sg_event_id);
  });

  it('refuses a body changed by one byte, as @sendgrid/eventwebhook does', () => {
    const tampered = Buffer.from(batch.raw.toString('utf8').replace('delivered', 'delivereD'));
    expect(verifySendgridEventSignature(key, batch.signature, batch.timestamp, tampered, { now })).to.equal(false);
    const ew = new EventWebhook();
    expect(ew.verifySignature(ew.convertPublicKeyToECDSA(key), tampered, batch.signature!, batch.timestamp!)).to.equal(
      false,
    );
  });

  it('refuses the signature under another key', () => {
    const other = createSendgridWebhookSigner().publicKeyBase64Der;
    expect(verifySendgridEventSignature(other, batch.signature, batch.timestamp, batch.raw, { now })).to.equal(false);
  });

  it('refuses a signature moved to another timestamp', () => {
    const later = String(Number(batch.timestamp) + 1);
    expect(verifySendgridEventSignature(key, batch.signature, later, batch.raw, { now })).to.equal(false);
  });

  it('accepts a timestamp up to five minutes old and refuses an older (stale) one', () => {
    const ts = Number(batch.timestamp) * 1000;
    expect(verifySendgridEventSignature(key, batch.signature, batch.timestamp, batch.raw, { now: ts + 299_000 })).to.be
      .true;
    expect(verifySendgridEventSignature(key, batch.signature, batch.timestamp, batch.raw, { now: ts + 301_000 })).to.be
      .false;
  });

  it('refuses a timestamp more than five minutes ahead', () => {
    const ts = Number(batch.timestamp) * 1000;
    expect(verifySendgridEventSignature(key, batch.signature, batch.timestamp, batch.raw, { now: ts - 301_000 })).to.be
      .false;
  });

  it('refuses a stale batch the fake signed in the past', async () => {
    const stale = Math.floor(Date.now() / 1000) - 600;
    await fake.postEvents(receiver.url, [fake.eventFor(fake.mails[0]!, 'delivered')], { timestamp: stale });
    const got = receiver.received.at(-1)!;
    expect(got.timestamp).to.equal(String(stale));
    expect(verifySendgridEventSignature(key, got.signature, got.timestamp, got.raw)).to.equal(false);
  });

  it('refuses missing or malformed headers and an unusable key without throwing', () => {
    const check = (k: string, sig: string | undefined, ts: string | undefined) =>
      verifySendgridEventSignature(k, sig, ts, batch.raw, { now });
    expect(check(key, undefined, batch.timestamp)).to.equal(false);
    expect(check(key, batch.signature, undefined)).to.equal(false);
    expect(check(key, '', batch.timestamp)).to.equal(false);
    expect(check(key, 'not base64 der!', batch.timestamp)).to.equal(false);
    expect(check(key, batch.signature, '17e8')).to.equal(false);
    expect(check('not a key', batch.signature, batch.timestamp)).to.equal(false);
    const rsa = crypto
      .generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ type: 'spki', format: 'der' })
      .toString('base64');
    expect(check(rsa, batch.signature, batch.timestamp)).to.equal(false);
  });
});
