// The workspace owner's "a client paid" mail, sent on the platform email adapter. It goes once: the send claims the
// payment's paid_notice_sent_at first (a duplicate job finds it claimed), and a failed send gives the claim back
// before the job is retried. The mail names the client, never the client's email address.
import { claimPaidNotice, releasePaidNotice, type Db } from '@nudge/db';
import { isProviderError, type EmailAdapter } from '@nudge/channels';
import { paidNoticeMail } from '@nudge/domain';
import type { Logger } from '@nudge/logger';
import { UnrecoverableError } from '@nudge/queue';

export async function sendPaidNotice(
  paymentId: string,
  deps: { db: Db; adapter: EmailAdapter; logger: Logger },
): Promise<{ messageId: string } | { skipped: string }> {
  const notice = await claimPaidNotice(deps.db, paymentId);
  if (!notice) return { skipped: 'not due, or already sent' };
  if (!notice.owner_email) {
    deps.logger.warn('paid mail has no active owner to go to', { paymentId });
    return { skipped: 'no active owner' };
  }
  const { subject, text } = paidNoticeMail({
    workspaceName: notice.workspace_name,
    clientName: notice.client_name,
    reminderTitle: notice.reminder_title,
    amount: notice.amount,
    currency: notice.currency,
    paidAt: notice.paid_at,
  });
  try {
    const sent = await deps.adapter.send({ to: notice.owner_email, subject, text });
    deps.logger.info('paid mail sent', { paymentId, provider: sent.provider, messageId: sent.messageId });
    return { messageId: sent.messageId };
  } catch (err) {
    if (isProviderError(err) && !err.transient)
      throw new UnrecoverableError(`${err.provider} refused the paid mail: ${err.code}`);
    await releasePaidNotice(deps.db, paymentId);
    throw err;
  }
}
