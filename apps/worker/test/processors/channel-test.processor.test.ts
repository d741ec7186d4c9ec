// A channel account's test send, run by real BullMQ workers on the email and SMS queues against the fake providers.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { getConfig, type Config } from '@nudge/config';
import { getLogger } from '@nudge/logger';
import { getDb, insertChannelAccount, insertUser } from '@nudge/db';
import { createWorker, Producers, QUEUES, type Worker } from '@nudge/queue';
import {
  startFakeSendgrid,
  startFakeSmtp,
  startFakeTwilio,
  waitFor,
  type FakeSendgrid,
  type FakeSmtp,
  type FakeTwilio,
} from '@nudge/testing';
import { createEmailProcessor } from '../../src/processors/email.processor';
import { createTextMessageProcessor } from '../../src/processors/text-message.processor';
import { createAdapterResolver } from '../../src/dispatch/adapter-resolver';
import type { EmailAdapter } from '@nudge/channels';

describe('the channel-test processor (dispatch-email, dispatch-sms)', () => {
  const db = getDb();
  let sendgrid: FakeSendgrid;
  let smtp: FakeSmtp;
  let twilio: FakeTwilio;
  let producers: Producers;
  let workers: Worker[];
  let workspaceId: string;
  let userId: string;
  const userEmail = `owner-${randomUUID()}@example.com`;

  before(async function () {
    this.timeout(30_000);
    [sendgrid, smtp, twilio] = await Promise.all([startFakeSendgrid(), startFakeSmtp(), startFakeTwilio()]);
    [{ id: workspaceId }] = (await db('workspaces')
      .insert({ name: `ct-${randomUUID()}` })
      .returning('id')) as [{ id: string }];
    userId = (await insertUser(db, { email: userEmail, password_hash: 'x', workspace_id: workspaceId, role: 'owner' }))
      .id;
    const base = getConfig();
    const config: Config = {
      ...base,
      sendgrid: { ...base.sendgrid, apiUrl: sendgrid.url },
      twilio: { ...base.twilio, apiUrl: twilio.url },
    };
    producers = new Producers();
    const ctx = { config, logger: getLogger(), producers };
    // The platform adapter is never used by a channel test: the account's own is.
    const platform = {
      provider: 'sandbox',
      send: () => Promise.reject(new Error('platform used')),
      close: async () => {},
    };
    const resolver = createAdapterResolver({ db, config });
    const email = createEmailProcessor(platform as unknown as EmailAdapter, { resolver });
    const sms = createTextMessageProcessor('sms', { resolver });
    workers = [
      createWorker(QUEUES.dispatchEmail, (job) => email(job, ctx), { concurrency: 1 }),
      createWorker(QUEUES.dispatchSms, (job) => sms(job, ctx), { concurrency: 1 }),
    ];
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.close()));
    await producers.close();
    await Promise.all([sendgrid.close(), smtp.close(), twilio.close()]);
    await db('workspaces').where({ id: workspaceId }).delete();
  });

  async function verdict(accountId: string) {
    await waitFor(
      async () => {
        const row = (await db('channel_accounts').where({ id: accountId }).first()) as {
          last_test_status: string | null;
        };
        return row.last_test_status === 'ok' || row.last_test_status === 'failed';
      },
      { timeoutMs: 15_000 },
    );
    return (await db('channel_accounts').where({ id: accountId }).first()) as {
      last_test_status: string;
      last_test_error: string | null;
      last_test_at: Date | null;
    };
  }

  const account = (channel: 'email' | 'sms', provider: 'sendgrid' | 'smtp' | 'twilio', creds: object, extra: object) =>
    insertChannelAccount(db, workspaceId, { channel, provider, is_active: false, ...extra }, creds);

  it("sends through the account's SendGrid key to the requesting user, and records ok", async () => {
    const a = await account('email', 'sendgrid', { api_key: sendgrid.apiKey }, { from_email: 'billing@acme.test' });
    await producers.add(QUEUES.dispatchEmail, { kind: 'channel-test', accountId: a.id, userId });
    const row = await verdict(a.id);
    expect(row).to.include({ last_test_status: 'ok', last_test_error: null });
    expect(row.last_test_at).to.be.instanceOf(Date);
    const mail = sendgrid.mails.at(-1)!;
    expect(mail.authorization).to.equal(`Bearer ${sendgrid.apiKey}`);
    expect(JSON.stringify(mail.body)).to.include(userEmail).and.include('billing@acme.test');
  });

  it('sends through the account’s SMTP server to the requesting user', async () => {
    const a = await account('email', 'smtp', { smtp_url: smtp.url }, { from_email: 'desk@acme.test' });
    await producers.add(QUEUES.dispatchEmail, { kind: 'channel-test', accountId: a.id, userId });
    expect(await verdict(a.id)).to.include({ last_test_status: 'ok' });
    expect(smtp.messages.at(-1)?.to).to.deep.equal([userEmail]);
  });

  it("records failed with the provider's code for a key SendGrid refuses", async () => {
    const a = await account('email', 'sendgrid', { api_key: 'SG.wrong.key' }, { from_email: 'billing@acme.test' });
    await producers.add(QUEUES.dispatchEmail, { kind: 'channel-test', accountId: a.id, userId });
    const row = await verdict(a.id);
    expect(row.last_test_status).to.equal('failed');
    expect(row.last_test_error).to.match(/^auth_failed/);
    expect(row.last_test_error).to.not.include('SG.wrong.key');
  });

  it('checks Twilio credentials for SMS: ok for good ones, failed with code 20003 for a wrong token', async () => {
    const good = await account(
      'sms',
      'twilio',
      { auth_token: twilio.authToken },
      { account_sid: twilio.accountSid, sms_from: '+14155550100' },
    );
    await producers.add(QUEUES.dispatchSms, { kind: 'channel-test', accountId: good.id, userId });
    expect(await verdict(good.id)).to.include({ last_test_status: 'ok' });
    await db('channel_accounts').where({ id: good.id }).delete();
    const bad = await account(
      'sms',
      'twilio',
      { auth_token: '0'.repeat(32) },
      { account_sid: twilio.accountSid, sms_from: '+14155550100' },
    );
    await producers.add(QUEUES.dispatchSms, { kind: 'channel-test', accountId: bad.id, userId });
    const row = await verdict(bad.id);
    expect(row.last_test_status).to.equal('failed');
    expect(row.last_test_error).to.match(/^auth_failed \(20003\)/);
  });
});
