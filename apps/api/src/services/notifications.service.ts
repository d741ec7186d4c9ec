// Notification history: listings with filters and cursor paging, counts by status, one notification with its
// attempts, and the two actions on one: send a failed reminder notification again, and cancel a queued one.
// Another workspace's notification is a 404; reading is open to every member, acting to owners and admins.
import {
  cancelQueuedNotification,
  countNotificationsByStatus,
  decodeCursor,
  encodeCursor,
  findNotificationDetail,
  findNotificationInScope,
  listNotifications,
  requeueNotificationForResend,
  RESENDABLE_STATUSES,
  type Db,
  type NotificationDetail,
  type NotificationFilters,
  type NotificationRow,
  type NotificationStatus,
} from '@nudge/db';
import type { Logger } from '@nudge/logger';
import { DISPATCH_QUEUES, jobIdFor, type Producers } from '@nudge/queue';
import { idScope, isManagerOf, ownScope, type Principal } from '../auth/principal';
import { Conflict, Forbidden, NotFound, ValidationFailed } from '../errors/domain-errors';
import { enqueueNotifications } from './notification-dispatch';

export interface NotificationListQuery extends NotificationFilters {
  limit: number;
  cursor?: string;
}

export interface NotificationPage {
  items: NotificationRow[];
  next_cursor: string | null;
}

export class NotificationsService {
  constructor(private readonly deps: { db: Db; producers: Producers; logger: Logger }) {}

  async list(p: Principal, q: NotificationListQuery): Promise<NotificationPage> {
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    if (q.cursor !== undefined && !after)
      throw ValidationFailed.field('query', 'cursor', '"cursor" is not a cursor this collection gave out');
    const { limit, cursor: _cursor, ...filters } = q;
    // One row more than the page tells whether there is a next page.
    const rows = await listNotifications(this.deps.db, ownScope(p), filters, { limit: limit + 1, after });
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return {
      items,
      next_cursor: rows.length > limit && last ? encodeCursor({ at: last.cursor_at, id: last.id }) : null,
    };
  }

  count(
    p: Principal,
    filters: Omit<NotificationFilters, 'status'>,
  ): Promise<Record<NotificationStatus | 'total', number>> {
    return countNotificationsByStatus(this.deps.db, ownScope(p), filters);
  }

  async get(p: Principal, id: string): Promise<NotificationDetail> {
    const n = await findNotificationDetail(this.deps.db, idScope(p), id);
    if (!n) throw new NotFound('No such notification');
    return n;
  }

  /** The notification, when the caller may act on it: 404 outside their scope, 403 unless owner or admin. */
  private async actionable(p: Principal, id: string): Promise<NotificationRow> {
    const n = await findNotificationInScope(this.deps.db, idScope(p), id);
    if (!n) throw new NotFound('No such notification');
    if (!isManagerOf(p, n.workspace_id)) throw new Forbidden();
    return n;
  }

  /**
   * Sends a failed, bounced or undeliverable notification again, on purpose: a new attempt, under a new job id. This is
   * how a notification that ended outcome_unknown (a reminder or a birthday post) goes out again.
   */
  async resend(p: Principal, id: string): Promise<NotificationRow> {
    const n = await this.actionable(p, id);
    const requeued = await requeueNotificationForResend(this.deps.db, n.workspace_id, id);
    if (!requeued) {
      const current = (await findNotificationInScope(this.deps.db, n.workspace_id, id)) ?? n;
      throw new Conflict(
        `Only a ${RESENDABLE_STATUSES.join(', ')} notification can be sent again; this ${current.kind} notification is ${current.status}`,
        'NOTIFICATION_NOT_RESENDABLE',
      );
    }
    await enqueueNotifications(this.deps, [requeued]);
    return (await findNotificationInScope(this.deps.db, n.workspace_id, id)) ?? requeued;
  }

  /** Cancels a queued notification; its job, when it runs, finds it final and sends nothing. */
  async cancel(p: Principal, id: string): Promise<NotificationRow> {
    const n = await this.actionable(p, id);
    const cancelled = await cancelQueuedNotification(this.deps.db, n.workspace_id, id);
    if (!cancelled) {
      const current = (await findNotificationInScope(this.deps.db, n.workspace_id, id)) ?? n;
      throw new Conflict(
        `Only a queued notification can be cancelled; this one is ${current.status}`,
        'NOTIFICATION_NOT_CANCELLABLE',
      );
    }
    // Tidy: the delayed job would find the notification final anyway. Best effort (an active job cannot be removed).
    if (cancelled.enqueue_count > 0) {
      await this.deps.producers
        .queue(DISPATCH_QUEUES[cancelled.channel])
        .remove(jobIdFor(id, cancelled.enqueue_count - 1))
        .catch((err: unknown) => this.deps.logger.info('could not remove a cancelled notification job', { err }));
    }
    return cancelled;
  }
}
