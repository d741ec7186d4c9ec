// The double-send rule, shared by every dispatch job and every reclaimer: a notification found `sending` was claimed
// by a try that never recorded how it ended (a crash, a database error after the provider may have accepted it).
// Sending it again could send it twice, so nothing sends it again by itself: it ends `failed` with an `unknown`
// attempt and last_error outcome_unknown, and POST /notifications/{id}/resend sends it again on purpose.
import { recordNotificationAttempt, type Db, type NotificationRow, type Trx } from '@nudge/db';

/** last_error of a notification whose send may or may not have reached the provider. */
export const OUTCOME_UNKNOWN = 'outcome_unknown';

/** Records the `unknown` attempt and ends the notification failed; `settle` writes what follows it, in the same transaction. */
export async function endOutcomeUnknown(
  db: Db,
  n: Pick<NotificationRow, 'id' | 'workspace_id' | 'attempts'>,
  settle?: (trx: Trx) => Promise<void>,
): Promise<void> {
  await db.transaction(async (trx) => {
    await recordNotificationAttempt(trx, n.workspace_id, n.id, {
      attempt: n.attempts + 1,
      outcome: 'unknown',
      error: OUTCOME_UNKNOWN,
      durationMs: 0,
    });
    await settle?.(trx);
  });
}
