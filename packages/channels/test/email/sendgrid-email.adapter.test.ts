import { expect } from 'chai';
import { providerFailure } from '../provider-failure';
import { startFakeSendgrid, type FakeSendgrid } from '@nudge/testing';
import { lastErrorOf, PermanentProviderError, SendgridEmailAdapter, TransientProviderError } from '@nudge/channels';

const message = {
  to: 'ada@example.com',
  subject: 'Invoice 7 is due',
  text: 'Please pay 25 EUR by Friday',
  html: '<p>Please pay</p>',
  customArgs: { notification_id: 'n-123' },
};

function expectNoSecrets(err: Error, fake: FakeSendgrid): void {
  for (const secret of [fake.apiKey, message.to, message.text, message.subject])
    expect(err.message).to.not.contain(secret);
  expect(JSON.stringify(err)).to.not.contain(fake.apiKey);
}

describe('SendgridEmailAdapter', () => {
  let fake: FakeSendgrid;
  let adapter: SendgridEmailAdapter;
  beforeEach(async () => {
    fake = await startFakeSendgrid();
    adapter = new SendgridEmailAdapter({
      apiKey: fake.apiKey,
      apiUrl: fake.url,
      from: 'Nudge <noreply@nudge.test>',
      timeoutMs: 200,
    });
  });
  afterEach(async () => {
    await adapter.close();
    await fake.close();
  });

  it('sends the subject, both bodies, the sender and custom args with the key, and answers the x-message-id', async () => {
    const result = await adapter.send(message);
    expect(fake.mails).to.have.length(1);
    const sent = fake.mails[0]!;
    expect(result).to.deep.equal({ provider: 'sendgrid', messageId: sent.messageId });
    expect(sent.authorization).to.equal(`Bearer ${fake.apiKey}`);
    expect(sent.body).to.deep.include({
      personalizations: [{ to: [{ email: 'ada@example.com' }] }],
      from: { email: 'noreply@nudge.test', name: 'Nudge' },
      subject: 'Invoice 7 is due',
      custom_args: { notification_id: 'n-123' },
      content: [
        { type: 'text/plain', value: 'Please pay 25 EUR by Friday' },
        { type: 'text/html', value: '<p>Please pay</p>' },
      ],
    });
  });

  it('sends customArgs as top-level custom_args on the wire', async () => {
    await adapter.send(message);
    const wire = JSON.parse(fake.requests[0]!.raw) as Record<string, unknown>;
    expect(wire.custom_args).to.deep.equal({ notification_id: 'n-123' });
    expect(wire).to.not.have.property('customArgs');
    expect((wire.personalizations as Array<Record<string, unknown>>)[0]).to.not.have.property('custom_args');
  });

  it('sends extra headers such as List-Unsubscribe (RFC 8058)', async () => {
    const headers = {
      'List-Unsubscribe': '<https://nudge.example/unsubscribe/tok>',
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    };
    await adapter.send({ ...message, headers });
    expect(fake.mails[0]!.body.headers).to.deep.equal(headers);
  });

  it('refuses a header with a line break before any request, without showing its value', async () => {
    const err = await providerFailure(adapter.send({ ...message, headers: { 'X-Note': 'a\r\nBcc: eve@example.com' } }));
    expect(err).to.be.instanceOf(PermanentProviderError);
    expect(err.code).to.equal('invalid_request');
    expect(err.message).to.contain('X-Note').and.not.contain('eve@example.com');
    expect(fake.requests).to.have.length(0);
  });

  it("uses fromName as the From display name, over the sender's own", async () => {
    await adapter.send({ ...message, fromName: 'Acme "Plumbing" Ltd' });
    expect(fake.mails[0]!.body.from).to.deep.equal({ email: 'noreply@nudge.test', name: 'Acme "Plumbing" Ltd' });
    await adapter.send({ ...message, from: 'billing@firm.test', fromName: 'Firm\r\nBcc: x' });
    expect(fake.mails[1]!.body.from).to.deep.equal({ email: 'billing@firm.test', name: 'Firm  Bcc: x' });
  });

  it('keeps its connections alive: four consecutive sends open two at most', async () => {
    // undici's pool may hand the next request a second connection while the first is still settling its answer.
    for (let i = 0; i < 4; i += 1) await adapter.send(message);
    expect(new Set(fake.requests.map((r) => r.remotePort)).size).to.be.at.most(2);
    await adapter.close();
  });

  it("uses the message's own sender over the default", async () => {
    await adapter.send({ ...message, from: 'billing@firm.test' });
    expect(fake.mails[0]!.body.from).to.deep.equal({ email: 'billing@firm.test' });
  });

  it('keeps its own key and URL beside another adapter', async () => {
    const other = await startFakeSendgrid();
    try {
      const second = new SendgridEmailAdapter({ apiKey: other.apiKey, apiUrl: other.url, from: 'noreply@nudge.test' });
      await second.send(message);
      await adapter.send(message);
      expect([fake.mails.length, other.mails.length]).to.deep.equal([1, 1]);
      expect(other.mails[0]!.authorization).to.equal(`Bearer ${other.apiKey}`);
    } finally {
      await other.close();
    }
  });

  it('turns a 429 into a transient error that carries Retry-After', async () => {
    fake.inject({ status: 429, retryAfterSeconds: 12 });
    const err = await providerFailure(adapter.send(message));
    expect(err).to.be.instanceOf(TransientProviderError);
    expect(err).to.include({
      transient: true,
      code: 'rate_limited',
      status: 429,
      retryAfterMs: 12_000,
      provider: 'sendgrid',
    });
    expectNoSecrets(err, fake);
  });

  for (const status of [500, 503]) {
    it(`turns a ${status} into a transient error`, async () => {
      fake.inject(status);
      const err = await providerFailure(adapter.send(message));
      expect(err).to.be.instanceOf(TransientProviderError);
      expect(err).to.include({ code: 'provider_unavailable', status });
    });
  }

  it('turns a 400 into a permanent error, naming the field without the address', async () => {
    fake.inject({
      status: 400,
      body: {
        errors: [
          {
            message: 'Does not contain a valid address: ada@example.com',
            field: 'personalizations.0.to.0.email',
            help: null,
          },
        ],
      },
    });
    const err = await providerFailure(adapter.send(message));
    expect(err).to.be.instanceOf(PermanentProviderError);
    expect(err).to.include({ transient: false, code: 'invalid_recipient', status: 400, undeliverable: true });
    expect(lastErrorOf(err)).to.equal('invalid_recipient (sendgrid 400)');
    expect(err.message).to.contain('personalizations.0.to.0.email');
    expectNoSecrets(err, fake);
  });

  it('turns a refused key into a permanent auth error that does not show the key', async () => {
    const wrong = new SendgridEmailAdapter({
      apiKey: 'SG.not-the-key.secretpart',
      apiUrl: fake.url,
      from: 'noreply@nudge.test',
    });
    const err = await providerFailure(wrong.send(message));
    expect(err).to.be.instanceOf(PermanentProviderError);
    expect(err).to.include({ code: 'auth_failed', status: 401 });
    expect(err.message).to.not.contain('secretpart');
  });

  it('gives up on a provider that never answers after the configured timeout, as a transient timeout', async () => {
    fake.inject('hang');
    const started = Date.now();
    const err = await providerFailure(adapter.send(message));
    expect(Date.now() - started).to.be.below(2000);
    expect(err).to.be.instanceOf(TransientProviderError);
    expect(err.code).to.equal('timeout');
    expectNoSecrets(err, fake);
  });

  it('treats a connection reset as transient', async () => {
    fake.inject('reset');
    const err = await providerFailure(adapter.send(message));
    expect(err).to.be.instanceOf(TransientProviderError);
    expect(err.code).to.equal('network');
    expect(fake.requests[0]!.outcome).to.equal('reset');
  });

  it('treats a refused connection as transient', async () => {
    await fake.close();
    const err = await providerFailure(adapter.send(message));
    expect(err).to.be.instanceOf(TransientProviderError);
    expect(err.code).to.equal('network');
  });
});
