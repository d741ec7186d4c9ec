import { expect } from 'chai';
import { providerFailure } from '../provider-failure';
import { startFakeSmtp, type FakeSmtp } from '@nudge/testing';
import {
  PermanentProviderError,
  SmtpEmailAdapter,
  smtpTransportOptions,
  TransientProviderError,
} from '@nudge/channels';

const message = {
  to: 'ada@example.com',
  subject: 'Reset your password',
  text: 'Open http://127.0.0.1/reset?t=abc',
  html: '<a href="http://127.0.0.1/reset?t=abc">Reset</a>',
};

describe('SmtpEmailAdapter', () => {
  let fake: FakeSmtp;
  let adapter: SmtpEmailAdapter;
  beforeEach(async () => {
    fake = await startFakeSmtp();
    // The fake has no TLS: plain SMTP to loopback, as allowed outside production.
    adapter = new SmtpEmailAdapter({
      url: fake.url,
      from: 'noreply@nudge.test',
      timeoutMs: 2000,
      allowInsecureLoopback: true,
    });
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
    const err = await providerFailure(guarded.send(message));
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
      allowInsecureLoopback: true,
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

  it('sends extra headers and the From display name', async () => {
    await adapter.send({
      ...message,
      fromName: 'Acme Plumbing',
      headers: {
        'List-Unsubscribe': '<https://nudge.example/unsubscribe/tok>',
        'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
      },
    });
    const raw = fake.messages[0]!.raw;
    expect(raw).to.match(/^From: Acme Plumbing <noreply@nudge\.test>\r$/m);
    expect(raw).to.match(/^List-Unsubscribe: <https:\/\/nudge\.example\/unsubscribe\/tok>\r$/m);
    expect(raw).to.match(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r$/m);
  });

  it('refuses a header with a line break before connecting', async () => {
    const err = await providerFailure(adapter.send({ ...message, headers: { 'X-Note': 'a\nBcc: eve@example.com' } }));
    expect(err).to.be.instanceOf(PermanentProviderError);
    expect(err.code).to.equal('invalid_request');
    expect(fake.messages).to.have.length(0);
  });

  it('reuses one pooled connection for consecutive sends', async () => {
    await adapter.send(message);
    await adapter.send(message);
    expect(fake.messages).to.have.length(2);
    expect(fake.messages[1]!.remotePort).to.equal(fake.messages[0]!.remotePort);
  });

  it('asks checkHost before sending and refuses with the code it gives', async () => {
    const asked: Array<[string, number]> = [];
    const guarded = new SmtpEmailAdapter({
      url: fake.url,
      from: 'noreply@nudge.test',
      allowInsecureLoopback: true,
      checkHost: (host, port) => {
        asked.push([host, port]);
        return asked.length > 1 ? 'host_not_allowed' : undefined;
      },
    });
    try {
      await guarded.send(message);
      const err = await providerFailure(guarded.send(message));
      expect(err).to.be.instanceOf(PermanentProviderError);
      expect(err.code).to.equal('host_not_allowed');
      expect(asked).to.deep.equal([
        ['127.0.0.1', fake.port],
        ['127.0.0.1', fake.port],
      ]);
      expect(fake.messages).to.have.length(1);
    } finally {
      await guarded.close();
    }
  });

  it('requires STARTTLS on smtp:// to loopback in production, and sends nothing in the clear', async () => {
    const strict = new SmtpEmailAdapter({ url: fake.url, from: 'noreply@nudge.test', timeoutMs: 2000 });
    try {
      const err = await providerFailure(strict.send(message));
      expect(err).to.be.instanceOf(PermanentProviderError);
      expect(err.code).to.equal('tls_failed');
      expect(fake.messages).to.have.length(0);
    } finally {
      await strict.close();
    }
  });

  it('speaks TLS from the first byte on smtps://, so the plain fake never gets a message', async () => {
    const url = new URL(fake.url);
    const tls = new SmtpEmailAdapter({
      url: `smtps://${url.username}:${url.password}@127.0.0.1:${fake.port}`,
      from: 'noreply@nudge.test',
      timeoutMs: 1000,
      allowInsecureLoopback: true,
    });
    try {
      const err = await providerFailure(tls.send(message));
      expect(err.code).to.not.equal('auth_failed');
      expect(fake.messages).to.have.length(0);
    } finally {
      await tls.close();
    }
  });

  it('turns a 5xx recipient refusal into a permanent error without the address', async () => {
    fake.inject({ code: 550, message: '5.1.1 <ada@example.com>: Recipient address rejected' });
    const err = await providerFailure(adapter.send(message));
    expect(err).to.be.instanceOf(PermanentProviderError);
    expect(err).to.include({ code: 'invalid_recipient', providerCode: 550, undeliverable: true });
    expect(err.message).to.not.contain('ada@example.com');
  });

  it('turns a 4xx refusal into a transient error', async () => {
    fake.inject({ code: 451, message: 'Try again later' });
    const err = await providerFailure(adapter.send(message));
    expect(err).to.be.instanceOf(TransientProviderError);
    expect(err.providerCode).to.equal(451);
  });

  it('turns refused credentials into a permanent auth error that does not show the password', async () => {
    const url = new URL(fake.url);
    url.password = 'wrong-password-123';
    const wrong = new SmtpEmailAdapter({
      url: url.toString(),
      from: 'noreply@nudge.test',
      allowInsecureLoopback: true,
    });
    const err = await providerFailure(wrong.send(message));
    expect(err).to.be.instanceOf(PermanentProviderError);
    expect(err.code).to.equal('auth_failed');
    expect(err.message).to.not.contain('wrong-password-123');
  });

  it('treats a server that is gone as transient', async () => {
    await fake.close();
    const err = await providerFailure(adapter.send(message));
    expect(err).to.be.instanceOf(TransientProviderError);
    expect(err.code).to.equal('network');
  });
});

describe('smtpTransportOptions', () => {
  it('makes smtps:// TLS from the start, on 465 by default', () => {
    expect(smtpTransportOptions('smtps://u:p@mail.example.com')).to.deep.include({
      secure: true,
      requireTLS: false,
      port: 465,
      host: 'mail.example.com',
      auth: { user: 'u', pass: 'p' },
    });
  });

  it('requires STARTTLS on smtp://, on 587 by default', () => {
    expect(smtpTransportOptions('smtp://mail.example.com')).to.deep.include({
      secure: false,
      requireTLS: true,
      port: 587,
    });
  });

  it('lets only a loopback host stay plain, and only when allowed (outside production)', () => {
    for (const host of ['127.0.0.1', 'localhost', '[::1]'])
      expect(smtpTransportOptions(`smtp://${host}:2525`, { allowInsecureLoopback: true }).requireTLS).to.equal(false);
    expect(smtpTransportOptions('smtp://127.0.0.1:2525').requireTLS).to.equal(true);
    expect(smtpTransportOptions('smtp://mail.example.com', { allowInsecureLoopback: true }).requireTLS).to.equal(true);
    expect(smtpTransportOptions('smtp://127.0.0.1.example.com', { allowInsecureLoopback: true }).requireTLS).to.equal(
      true,
    );
  });

  it('decodes credentials and takes pooling, timeouts and the EHLO name from the query string', () => {
    expect(
      smtpTransportOptions('smtp://a%40b:p%3Ass@mail.example.com?pool=false&socketTimeout=500&name=nudge.example'),
    ).to.deep.include({ auth: { user: 'a@b', pass: 'p:ss' }, pool: false, socketTimeout: 500, name: 'nudge.example' });
  });

  for (const query of [
    'ignoreTLS=true',
    'requireTLS=false',
    'secure=false',
    'host=10.0.0.1',
    'tls.rejectUnauthorized=false',
  ]) {
    it(`refuses ?${query}, which could weaken TLS or move the connection`, () => {
      expect(() => smtpTransportOptions(`smtp://mail.example.com?${query}`)).to.throw(
        PermanentProviderError,
        /not allowed/,
      );
    });
  }

  it('refuses a URL of another scheme', () => {
    expect(() => smtpTransportOptions('http://mail.example.com')).to.throw(PermanentProviderError, /smtp:\/\//);
  });
});
