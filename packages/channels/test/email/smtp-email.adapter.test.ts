import { expect } from 'chai';
import { startFakeSmtp, type FakeSmtp, rejectionOf } from '@nudge/testing';
import { PermanentProviderError, ProviderError, SmtpEmailAdapter, TransientProviderError } from '@nudge/channels';

const message = {
  to: 'ada@example.com',
  subject: 'Reset your password',
  text: 'Open http://127.0.0.1/reset?t=abc',
  html: '<a href="http://127.0.0.1/reset?t=abc">Reset</a>',
};

async function failure(p: Promise<unknown>): Promise<ProviderError> {
  const err = await rejectionOf(p);
  expect(err).to.be.instanceOf(ProviderError);
  return err as ProviderError;
}

describe('SmtpEmailAdapter', () => {
  let fake: FakeSmtp;
  let adapter: SmtpEmailAdapter;
  beforeEach(async () => {
    fake = await startFakeSmtp();
    adapter = new SmtpEmailAdapter({ url: fake.url, from: 'noreply@nudge.test', timeoutMs: 2000 });
  });
  afterEach(async () => {
    await adapter.close();
    await fake.close();
  });

  it('refuses, before connecting, a host that resolves to an internal address under a blocking policy', async () => {
    const guarded = new SmtpEmailAdapter({
      url: fake.url.replace('127.0.0.1', 'localhost'),
      from: 'noreply@nudge.test',
      timeoutMs: 2000,
      hostPolicy: { blockInternalAddresses: true },
    });
    const err = await failure(guarded.send(message));
    expect(err).to.be.instanceOf(PermanentProviderError);
    expect(err.code).to.equal('internal_address');
    expect(fake.messages).to.have.length(0);
    await guarded.close();
  });

  it('connects as usual when the policy does not block (development)', async () => {
    const open = new SmtpEmailAdapter({
      url: fake.url,
      from: 'noreply@nudge.test',
      hostPolicy: { blockInternalAddresses: false },
    });
    await open.send(message);
    expect(fake.messages).to.have.length(1);
    await open.close();
  });

  it('delivers the message with the URL credentials and answers its Message-ID', async () => {
    const result = await adapter.send(message);
    expect(fake.messages).to.have.length(1);
    const m = fake.messages[0]!;
    expect(m).to.include({ from: 'noreply@nudge.test', user: fake.user, subject: 'Reset your password' });
    expect(m.to).to.deep.equal(['ada@example.com']);
    expect(m.raw).to.contain('Open http://127.0.0.1/reset?t=abc');
    expect(result.provider).to.equal('smtp');
    expect(result.messageId).to.match(/^<.+@.+>$/);
    expect(m.raw).to.contain(result.messageId);
  });

  it('turns a 5xx recipient refusal into a permanent error without the address', async () => {
    fake.inject({ code: 550, message: '5.1.1 <ada@example.com>: Recipient address rejected' });
    const err = await failure(adapter.send(message));
    expect(err).to.be.instanceOf(PermanentProviderError);
    expect(err).to.include({ code: 'invalid_recipient', providerCode: 550 });
    expect(err.message).to.not.contain('ada@example.com');
  });

  it('turns a 4xx refusal into a transient error', async () => {
    fake.inject({ code: 451, message: 'Try again later' });
    const err = await failure(adapter.send(message));
    expect(err).to.be.instanceOf(TransientProviderError);
    expect(err.providerCode).to.equal(451);
  });

  it('turns refused credentials into a permanent auth error that does not show the password', async () => {
    const url = new URL(fake.url);
    url.password = 'wrong-password-123';
    const wrong = new SmtpEmailAdapter({ url: url.toString(), from: 'noreply@nudge.test' });
    const err = await failure(wrong.send(message));
    expect(err).to.be.instanceOf(PermanentProviderError);
    expect(err.code).to.equal('auth_failed');
    expect(err.message).to.not.contain('wrong-password-123');
  });

  it('treats a server that is gone as transient', async () => {
    await fake.close();
    const err = await failure(adapter.send(message));
    expect(err).to.be.instanceOf(TransientProviderError);
    expect(err.code).to.equal('network');
  });
});
