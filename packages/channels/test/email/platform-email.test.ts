import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { startFakeSendgrid, startFakeSmtp, type FakeSendgrid, type FakeSmtp } from '@nudge/testing';
import { ChannelNotConfiguredError, createPlatformEmailAdapter, type PlatformEmailConfig } from '@nudge/channels';

const message = { to: 'ada@example.com', subject: 'Hello', text: 'Body' };

describe('createPlatformEmailAdapter', () => {
  let sendgrid: FakeSendgrid;
  let smtp: FakeSmtp;
  let rootDir: string;
  let base: PlatformEmailConfig;
  before(async () => {
    sendgrid = await startFakeSendgrid();
    smtp = await startFakeSmtp();
  });
  after(async () => {
    await sendgrid.close();
    await smtp.close();
  });
  beforeEach(() => {
    sendgrid.reset();
    smtp.reset();
    rootDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nudge-platform-email-'));
    base = {
      isProduction: false,
      rootDir,
      emailFrom: 'noreply@nudge.test',
      smtpUrl: undefined,
      sendgrid: { apiKey: undefined, apiUrl: undefined },
    };
  });
  afterEach(() => fs.rmSync(rootDir, { recursive: true, force: true }));

  it('sends through SendGrid when a key is configured, even with an SMTP URL', async () => {
    const adapter = createPlatformEmailAdapter({
      ...base,
      smtpUrl: smtp.url,
      sendgrid: { apiKey: sendgrid.apiKey, apiUrl: sendgrid.url },
    });
    const result = await adapter.send(message);
    expect(result.provider).to.equal('sendgrid');
    expect(sendgrid.mails).to.have.length(1);
    expect(smtp.messages).to.have.length(0);
  });

  it('sends through SMTP when only an SMTP URL is configured', async () => {
    const adapter = createPlatformEmailAdapter({ ...base, smtpUrl: smtp.url });
    const result = await adapter.send(message);
    await adapter.close();
    expect(result.provider).to.equal('smtp');
    expect(smtp.messages).to.have.length(1);
    expect(smtp.messages[0]!.raw).to.contain('noreply@nudge.test');
  });

  it('falls back to the sandbox outside production', async () => {
    const adapter = createPlatformEmailAdapter(base);
    const result = await adapter.send(message);
    expect(result.provider).to.equal('sandbox');
    expect(fs.existsSync(path.join(rootDir, '.nudge', 'outbox', `${result.messageId}.eml`))).to.equal(true);
  });

  it('refuses to start without credentials in production', () => {
    expect(() => createPlatformEmailAdapter({ ...base, isProduction: true })).to.throw(
      ChannelNotConfiguredError,
      /no email credentials/,
    );
  });

  it('still uses real credentials in production', () => {
    expect(createPlatformEmailAdapter({ ...base, isProduction: true, smtpUrl: smtp.url }).provider).to.equal('smtp');
  });
});
