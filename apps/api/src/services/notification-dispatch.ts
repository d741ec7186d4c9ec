// The API's side of dispatch: after the commit that wrote them, each queued notification (send-now, a resend) is
// added on its channel's queue under its next job id, and the add is recorded. An add that fails (Redis away) leaves
// the notification queued for the reminders process's reconciler, so the answer never depends on it.
import {
  markCheckoutsEnqueued,
  markNotificationEnqueued,
  type Db,
  type NotificationRow,
  type PaymentRow,
} from '@nudge/db';
import type { Logger } from '@nudge/logger';
import { addCheckoutJobs, addDispatchJob, jobIdFor, type Producers } from '@nudge/queue';

export async function enqueueNotifications(
  deps: { db: Db; producers: Producers; logger: Logger },
  notifications: readonly NotificationRow[],
): Promise<void> {
  for (const n of notifications) {
    if (n.status !== 'queued') continue;
    try {
      await addDispatchJob(deps.producers, n.channel, n.id, jobIdFor(n.id, n.enqueue_count));
      await markNotificationEnqueued(deps.db, n.workspace_id, n.id, n.enqueue_count + 1);
    } catch (err) {
      deps.logger.warn('could not enqueue a notification; the reconciler will', { err, notificationId: n.id });
    }
  }
}

/**
 * A payment reminder's new payments: their billing-checkout jobs (the billing worker makes each link, then enqueues
 * the notification), recorded after the add. A failed add leaves them to the reminders process's reconciler.
 */
export async function enqueueCheckouts(
  deps: { db: Db; producers: Producers; logger: Logger },
  payments: readonly PaymentRow[],
): Promise<void> {
  if (payments.length === 0) return;
  try {
    await addCheckoutJobs(
      deps.producers,
      payments.map((p) => ({ paymentId: p.id, jobId: jobIdFor(p.id, p.checkout_enqueue_count) })),
    );
    await markCheckoutsEnqueued(
      deps.db,
      payments.map((p) => ({ workspaceId: p.workspace_id, id: p.id, enqueueCount: p.checkout_enqueue_count + 1 })),
    );
  } catch (err) {
    deps.logger.warn('could not enqueue checkout jobs; the reconciler will', { err, count: payments.length });
  }
}
