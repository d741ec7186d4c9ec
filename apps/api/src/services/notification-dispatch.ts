// The API's side of dispatch: after the commit that wrote them, each queued notification (send-now, a resend) is
// added on its channel's queue under its next job id, and the add is recorded. An add that fails (Redis away) leaves
// the notification queued for the reminders process's reconciler, so the answer never depends on it.
import { markNotificationEnqueued, type Db, type NotificationRow } from '@nudge/db';
import type { Logger } from '@nudge/logger';
import { addDispatchJob, jobIdFor, type Producers } from '@nudge/queue';

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
