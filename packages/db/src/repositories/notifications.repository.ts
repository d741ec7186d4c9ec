// Notifications: every message sent or to be sent, with one notification_attempts row per try. Dispatch workers
// find a notification by id alone (jobs carry ids only); every write after that names its workspace too.
import type { Conn } from '../connection';

export type NotificationKind = 'birthday' | 'reminder';
export type NotificationChannel = 'slack';
export type NotificationStatus =
  'queued' | 'sending' | 'sent' | 'delivered' | 'failed' | 'bounced' | 'undeliverable' | 'cancelled';
export type AttemptOutcome = 'sent' | 'retry' | 'failed';

/** Statuses after which a dispatch job has nothing left to do. */
export const FINAL_NOTIFICATION_STATUSES: readonly NotificationStatus[] = [
  'sent',
  'delivered',
  'failed',
  'bounced',
  'undeliverable',
  'cancelled',
];

export function isFinalNotificationStatus(status: NotificationStatus): boolean {
  return FINAL_NOTIFICATION_STATUSES.includes(status);
}

export interface NotificationRow {
  id: string;
  workspace_id: string;
  kind: NotificationKind;
  channel: NotificationChannel;
  status: NotificationStatus;
  dedupe_key: string;
  attempts: number;
  provider: string | null;
  provider_message_id: string | null;
  last_error: string | null;
  body: string | null;
  scheduled_for: Date | null;
  sent_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

export interface NotificationAttemptRow {
  id: string;
  notification_id: string;
  attempt: number;
  outcome: AttemptOutcome;
  http_status: number | null;
  error: string | null;
  duration_ms: number;
  created_at: Date;
}

export interface NewNotification {
  kind: NotificationKind;
  channel: NotificationChannel;
  dedupe_key: string;
  body: string;
  scheduled_for?: Date;
}

/** Inserts a queued notification, or answers undefined when its dedupe key is already taken. */
export async function insertNotification(
  db: Conn,
  workspaceId: string,
  n: NewNotification,
): Promise<NotificationRow | undefined> {
  const [row] = await db<NotificationRow>('notifications')
    .insert({ workspace_id: workspaceId, status: 'queued', ...n })
    .onConflict('dedupe_key')
    .ignore()
    .returning('*');
  return row;
}

/** For a dispatch worker, whose job carries the notification id only. */
export async function findNotificationForDispatch(db: Conn, id: string): Promise<NotificationRow | undefined> {
  return db<NotificationRow>('notifications').where({ id }).first();
}

export async function findNotification(
  db: Conn,
  workspaceId: string,
  id: string,
): Promise<NotificationRow | undefined> {
  return db<NotificationRow>('notifications').where({ id, workspace_id: workspaceId }).first();
}

export async function listNotificationAttempts(
  db: Conn,
  workspaceId: string,
  notificationId: string,
): Promise<NotificationAttemptRow[]> {
  return db<NotificationAttemptRow>('notification_attempts as a')
    .join('notifications as n', 'n.id', 'a.notification_id')
    .where({ 'n.workspace_id': workspaceId, 'a.notification_id': notificationId })
    .orderBy([{ column: 'a.attempt' }, { column: 'a.created_at' }])
    .select('a.*');
}

/** Moves a notification that is not final to `sending`; answers false when it was final (nothing to send). */
export async function markNotificationSending(db: Conn, workspaceId: string, id: string): Promise<boolean> {
  const n = await db('notifications')
    .where({ id, workspace_id: workspaceId })
    .whereNotIn('status', FINAL_NOTIFICATION_STATUSES)
    .update({ status: 'sending', updated_at: db.fn.now() });
  return n > 0;
}

export interface AttemptRecord {
  attempt: number;
  outcome: AttemptOutcome;
  httpStatus?: number;
  error?: string;
  durationMs: number;
}

/**
 * Records one try and moves the notification on: `sent` on success, back to `queued` before a retry, `failed`
 * when no retry follows. Call it in the same transaction as any row that follows the notification.
 */
export async function recordNotificationAttempt(
  db: Conn,
  workspaceId: string,
  id: string,
  a: AttemptRecord,
  sent?: { provider: string; providerMessageId?: string; at: Date },
): Promise<void> {
  const owned = await db<NotificationRow>('notifications').where({ id, workspace_id: workspaceId }).first('id');
  if (!owned) return;
  await db('notification_attempts').insert({
    notification_id: id,
    attempt: a.attempt,
    outcome: a.outcome,
    http_status: a.httpStatus ?? null,
    error: a.error ?? null,
    duration_ms: Math.max(0, Math.round(a.durationMs)),
  });
  const status: NotificationStatus = a.outcome === 'sent' ? 'sent' : a.outcome === 'retry' ? 'queued' : 'failed';
  await db('notifications')
    .where({ id, workspace_id: workspaceId })
    .update({
      status,
      attempts: db.raw('GREATEST(attempts, ?)', [a.attempt]),
      last_error: a.outcome === 'sent' ? null : (a.error ?? null),
      ...(sent
        ? { provider: sent.provider, provider_message_id: sent.providerMessageId ?? null, sent_at: sent.at }
        : {}),
      updated_at: db.fn.now(),
    });
}

/** Fails a notification without a try (nothing to send to, or its day is over). */
export async function failNotification(db: Conn, workspaceId: string, id: string, reason: string): Promise<void> {
  await db('notifications')
    .where({ id, workspace_id: workspaceId })
    .whereNotIn('status', FINAL_NOTIFICATION_STATUSES)
    .update({ status: 'failed', last_error: reason, updated_at: db.fn.now() });
}
