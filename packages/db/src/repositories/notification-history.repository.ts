// Notification history as the API reads it: filtered, keyset-paged listings (newest first), counts by status, and
// one notification with its reminder's title, its client's name and its attempts. Birthday posts are listed too.
import type { Conn } from '../connection';
import { applyScope, type WorkspaceScope } from '../scope';
import { CURSOR_AT_SQL, type KeysetPosition } from '../pagination';
import {
  NOTIFICATION_STATUSES,
  type NotificationAttemptRow,
  type NotificationChannel,
  type NotificationKind,
  type NotificationRow,
  type NotificationStatus,
} from './notifications.repository';

export interface NotificationFilters {
  status?: NotificationStatus;
  channel?: NotificationChannel;
  kind?: NotificationKind;
  clientId?: string;
  reminderId?: string;
  /** created_at at or after. */
  from?: Date;
  /** created_at before. */
  to?: Date;
}

function filtered(db: Conn, scope: WorkspaceScope, f: NotificationFilters) {
  const q = applyScope(db<NotificationRow>('notifications as n'), scope, 'n.workspace_id');
  if (f.status) q.where('n.status', f.status);
  if (f.channel) q.where('n.channel', f.channel);
  if (f.kind) q.where('n.kind', f.kind);
  if (f.clientId) q.where('n.client_id', f.clientId);
  if (f.reminderId) q.where('n.reminder_id', f.reminderId);
  if (f.from) q.where('n.created_at', '>=', f.from);
  if (f.to) q.where('n.created_at', '<', f.to);
  return q;
}

/** A page, newest first, after a keyset position (pagination.ts); each row carries its own position's `at`. */
export async function listNotifications(
  db: Conn,
  scope: WorkspaceScope,
  f: NotificationFilters,
  page: { limit: number; after?: KeysetPosition },
): Promise<(NotificationRow & { cursor_at: string })[]> {
  const q = filtered(db, scope, f)
    .orderBy([
      { column: 'n.created_at', order: 'desc' },
      { column: 'n.id', order: 'desc' },
    ])
    .limit(page.limit)
    .select('n.*', db.raw(CURSOR_AT_SQL('n')));
  if (page.after) q.whereRaw('(n.created_at, n.id) < (?::timestamptz, ?::uuid)', [page.after.at, page.after.id]);
  const rows: unknown = await q;
  return rows as (NotificationRow & { cursor_at: string })[];
}

/** How many notifications are in each status, with the total. */
export async function countNotificationsByStatus(
  db: Conn,
  scope: WorkspaceScope,
  f: Omit<NotificationFilters, 'status'>,
): Promise<Record<NotificationStatus | 'total', number>> {
  const rows = (await filtered(db, scope, f)
    .groupBy('n.status')
    .select('n.status', db.raw('count(*)::int AS count'))) as unknown as {
    status: NotificationStatus;
    count: number;
  }[];
  const out = Object.fromEntries(NOTIFICATION_STATUSES.map((s) => [s, 0])) as Record<NotificationStatus, number>;
  let total = 0;
  for (const r of rows) {
    out[r.status] = r.count;
    total += r.count;
  }
  return { ...out, total };
}

export interface NotificationDetail extends NotificationRow {
  reminder_title: string | null;
  client_name: string | null;
  attempt_rows: NotificationAttemptRow[];
}

export async function findNotificationInScope(
  db: Conn,
  scope: WorkspaceScope,
  id: string,
): Promise<NotificationRow | undefined> {
  return applyScope(db<NotificationRow>('notifications').where({ id }), scope).first();
}

export async function findNotificationDetail(
  db: Conn,
  scope: WorkspaceScope,
  id: string,
): Promise<NotificationDetail | undefined> {
  const found: unknown = await applyScope(db('notifications as n').where('n.id', id), scope, 'n.workspace_id')
    .leftJoin('reminders as r', 'r.id', 'n.reminder_id')
    .leftJoin('clients as c', 'c.id', 'n.client_id')
    .first('n.*', 'r.title as reminder_title', 'c.name as client_name');
  const row = found as (NotificationRow & { reminder_title: string | null; client_name: string | null }) | undefined;
  if (!row) return undefined;
  const attempts = await db<NotificationAttemptRow>('notification_attempts')
    .where({ notification_id: id })
    .orderBy([{ column: 'attempt' }, { column: 'created_at' }]);
  return { ...row, attempt_rows: attempts };
}
