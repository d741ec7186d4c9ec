// A workspace's channel-account test (POST /channel-accounts/{id}/test), run by the consumer of that channel's queue:
// email is sent through an adapter built from the account itself (SendGrid or SMTP, the SMTP host checked again
// right before connecting), SMS and WhatsApp check the Twilio credentials until the dispatch issue brings real sends.
// The verdict is recorded on the account, with the provider's code; a test is never retried.
import type { ChannelTestJob } from '@nudge/queue';
import { findChannelAccountById, findUserById, getDb, recordChannelAccountTest, type Db } from '@nudge/db';
import { isProviderError, verifyTwilioAccount } from '@nudge/channels';
import type { WorkerContext } from '../runtime';
import { emailAdapterForAccount } from '../dispatch/adapter-resolver';

export type ChannelTestOutcome = { status: 'ok' | 'failed'; error?: string } | { skipped: string };

/** `code (provider code): message`, as last_test_error shows it. */
function describeFailure(err: unknown): string {
  if (isProviderError(err))
    return `${err.code}${err.providerCode !== undefined ? ` (${err.providerCode})` : ''}: ${err.message}`;
  return `error: ${err instanceof Error ? err.name : 'unknown'}`;
}

export async function runChannelTest(
  job: ChannelTestJob,
  { config, logger }: Pick<WorkerContext, 'config' | 'logger'>,
  db: Db = getDb(),
): Promise<ChannelTestOutcome> {
  const account = await findChannelAccountById(db, job.accountId);
  if (!account) return { skipped: 'no such account' };
  const verdict = async (status: 'ok' | 'failed', error?: string): Promise<ChannelTestOutcome> => {
    await recordChannelAccountTest(db, account.id, { status, error: error ?? null });
    logger.info('channel account test', { accountId: account.id, channel: account.channel, status, error });
    return error ? { status, error } : { status };
  };
  const creds = account.credentials;
  if (!creds) return verdict('failed', 'credentials_unreadable: the stored credentials no longer decrypt');
  try {
    if (account.channel === 'email') {
      const to = (await findUserById(db, job.userId))?.email;
      if (!to) return verdict('failed', 'no_recipient: the requesting user is gone');
      const from = account.from_email ?? config.emailFrom;
      const adapter = emailAdapterForAccount(account, config);
      try {
        await adapter.send({
          to,
          from: account.from_name ? `"${account.from_name.replace(/"/g, '')}" <${from}>` : from,
          subject: 'Nudge test message',
          text: 'This is a test message from Nudge: your workspace’s email account works.',
        });
      } finally {
        await adapter.close();
      }
    } else {
      await verifyTwilioAccount({
        accountSid: account.account_sid ?? '',
        authToken: creds.auth_token ?? '',
        apiUrl: config.twilio.apiUrl,
      });
    }
  } catch (err) {
    return verdict('failed', describeFailure(err));
  }
  return verdict('ok');
}
