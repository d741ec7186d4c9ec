import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect } from 'chai';
import { ChannelNotConfiguredError, SandboxEmailAdapter } from '@nudge/channels';

describe('SandboxEmailAdapter', () => {
  let rootDir: string;
  beforeEach(() => (rootDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nudge-sandbox-'))));
  afterEach(() => fs.rmSync(rootDir, { recursive: true, force: true }));

  it('writes each message as an .eml file in .nudge/outbox named by its id', async () => {
    const adapter = new SandboxEmailAdapter({ rootDir, from: 'noreply@nudge.test', isProduction: false });
    const result = await adapter.send({
      to: 'ada@example.com',
      subject: 'Your invoice',
      text: 'Please pay 25 EUR',
      customArgs: { notification_id: 'n-1' },
      fromName: 'Acme Plumbing',
      headers: { 'List-Unsubscribe': '<https://nudge.example/unsubscribe/tok>' },
    });
    expect(result.provider).to.equal('sandbox');
    const file = path.join(rootDir, '.nudge', 'outbox', `${result.messageId}.eml`);
    const eml = fs.readFileSync(file, 'utf8');
    // RFC 822 lines end in CRLF; nodemailer capitalises header names.
    expect(eml).to.match(/^Subject: Your invoice\r$/m);
    expect(eml).to.match(/^To: ada@example\.com\r$/m);
    expect(eml).to.match(/^From: Acme Plumbing <noreply@nudge\.test>\r$/m);
    expect(eml).to.match(/^List-Unsubscribe: <https:\/\/nudge\.example\/unsubscribe\/tok>\r$/m);
    expect(eml).to.contain(`Message-ID: <${result.messageId}@sandbox.nudge.local>\r\n`);
    expect(eml).to.match(/^X-Nudge-Arg-notification_id: n-1\r$/im);
    expect(eml).to.contain('Please pay 25 EUR');
    expect(fs.statSync(file).mode & 0o077).to.equal(0);

    const second = await adapter.send({ to: 'bob@example.com', subject: 'Another', text: 'x' });
    expect(second.messageId).to.not.equal(result.messageId);
    expect(fs.readdirSync(path.join(rootDir, '.nudge', 'outbox'))).to.have.length(2);
  });

  it('refuses to exist in production', () => {
    expect(() => new SandboxEmailAdapter({ rootDir, from: 'noreply@nudge.test', isProduction: true })).to.throw(
      ChannelNotConfiguredError,
    );
  });
});
