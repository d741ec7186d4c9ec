// dispatch-email: password-reset mail and channel-account tests now; reminder notifications join it with the dispatch
// issue.
// The reset token is minted here, at send time, so its plaintext is never stored or queued: the job carries
// only the user's id.
import { UnrecoverableError, type EmailJob, type Job } from '@nudge/queue';
import { findUserById, getDb, replacePasswordResetToken } from '@nudge/db';
import { hashToken, randomToken } from '@nudge/crypto';
import type { EmailAdapter } from '@nudge/channels';
import { isProviderError } from '@nudge/channels';
import type { WorkerContext } from '../runtime';
import { runChannelTest, type ChannelTestOutcome } from './channel-test.processor';

export const RESET_TOKEN_TTL_MS = 3600_000;

export function createEmailProcessor(adapter: EmailAdapter) {
  return async (
    job: Job<EmailJob>,
    { config, logger }: WorkerContext,
  ): Promise<{ messageId: string } | { skipped: string } | ChannelTestOutcome> => {
    if (job.data.kind === 'channel-test') return runChannelTest(job.data, { config, logger });
    if (job.data.kind !== 'password-reset') throw new UnrecoverableError(`unsupported email kind ${job.data.kind}`);
    const db = getDb();
    const user = await findUserById(db, job.data.userId);
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
  };
}
