// dispatch-email: password-reset mail and the owner's paid mail (on the platform email adapter), channel-account
// test sends, and reminder notifications by email (through the dispatch skeleton with the reminder hooks of
// ../reminders/reminder-delivery.ts, on the route the adapter resolver picks: the workspace's own account or the
// platform's).
// The reset token is minted here, at send time, so its plaintext is never stored or queued: the job carries
// only the user's id.
import { UnrecoverableError, type EmailJob, type Job, type NotificationJob } from '@nudge/queue';
import { findUserById, getDb, replacePasswordResetToken } from '@nudge/db';
import { hashToken, randomToken } from '@nudge/crypto';
import type { EmailAdapter } from '@nudge/channels';
import { isProviderError } from '@nudge/channels';
import type { WorkerContext } from '../runtime';
import type { DispatchOutcome } from '../dispatch/channel.processor';
import { reminderDispatcher, type ReminderDispatchDeps } from '../reminders/reminder-delivery';
import { runChannelTest, type ChannelTestOutcome } from './channel-test.processor';
import { sendPaidNotice } from '../billing/paid-notice';

export const RESET_TOKEN_TTL_MS = 3600_000;

/** The reminder dispatch's dependencies; the platform adapter stays for password resets. */
export type EmailProcessorDeps = ReminderDispatchDeps;

export function createEmailProcessor(adapter: EmailAdapter, overrides: EmailProcessorDeps) {
  const reminders = reminderDispatcher('email', overrides);
  return async (
    job: Job<EmailJob>,
    ctx: WorkerContext,
  ): Promise<{ messageId: string } | { skipped: string } | DispatchOutcome | ChannelTestOutcome> => {
    if (job.data.kind === 'channel-test') return runChannelTest(job.data, ctx);
    if (job.data.kind === 'notification') return reminders(job as unknown as Job<NotificationJob>, ctx);
    if (job.data.kind === 'payment-paid')
      return sendPaidNotice(job.data.paymentId, { db: overrides.db ?? getDb(), adapter, logger: ctx.logger });
    if (job.data.kind !== 'password-reset') throw new UnrecoverableError('unsupported email kind');
    return sendPasswordReset(job.data.userId, adapter, ctx);
  };
}

async function sendPasswordReset(
  userId: string,
  adapter: EmailAdapter,
  { config, logger }: WorkerContext,
): Promise<{ messageId: string } | { skipped: string }> {
  const db = getDb();
  const user = await findUserById(db, userId);
  if (!user?.is_active) return { skipped: 'no active user' };
  // 32 random bytes: 256 bits, well over the 128 required.
  const token = randomToken(32);
  await replacePasswordResetToken(db, {
    user_id: user.id,
    token_hash: hashToken(token),
    expires_at: new Date(Date.now() + RESET_TOKEN_TTL_MS),
  });
  const link = `${config.resetPasswordUrl}?token=${encodeURIComponent(token)}`;
  try {
    const sent = await adapter.send({
      to: user.email,
      subject: 'Reset your Nudge password',
      text: `Someone asked to reset the password of your Nudge account.\n\nTo choose a new password, open this link within the hour:\n${link}\n\nIf it was not you, ignore this mail: your password stays as it is.`,
    });
    logger.info('password-reset mail sent', { provider: sent.provider, messageId: sent.messageId });
    return { messageId: sent.messageId };
  } catch (err) {
    if (isProviderError(err) && !err.transient)
      throw new UnrecoverableError(`${err.provider} refused the mail: ${err.code}`);
    throw err;
  }
}
