// Notifications: every message sent or to be sent, with one notification_attempts row per try. Dispatch workers
// find a notification by id alone (jobs carry ids only); every write after that names its workspace too. The
// history API reads them through a WorkspaceScope.
import type { Conn } from '../connection';
import { applyScope, type WorkspaceScope } from '../scope';

export type NotificationKind = 'birthday' | 'reminder';
export type NotificationChannel = 'slack' | 'email' | 'sms' | 'whatsapp';
export const NOTIFICATION_STATUSES = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'failed',
  'bounced',
  'undeliverable',
  'cancelled',
] as const;
export type NotificationStatus =
  'queued' | 'sending' | 'sent' | 'delivered' | 'failed' | 'bounced' | 'undeliverable' | 'cancelled';
export type AttemptOutcome = 'sent' | 'retry' | 'failed' | 'undeliverable' | 'cancelled' | 'unknown';

/** The status a notification takes after a try with this outcome; `unknown` ends it failed (never sent again by itself). */
const STATUS_AFTER: Record<AttemptOutcome, NotificationStatus> = {
  sent: 'sent',
  retry: 'queued',
  failed: 'failed',
  undeliverable: 'undeliverable',
  cancelled: 'cancelled',
  unknown: 'failed',
};

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
  reminder_id: string | null;
  client_id: string | null;
  occurrence_at: Date | null;
  delivered_at: Date | null;
  fallback_of: string | null;
  subject: string | null;
  /** Dispatch jobs added so far; the next one's id is jobIdFor(id, enqueue_count). */
  enqueue_count: number;
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

/**
 * The one fallback of a reminder notification that failed, on `channel`: queued for the same client and
 * occurrence, linked by fallback_of, under a dedupe key derived from the first, so it is created once however
 * often the failure is handled. Answers undefined when it already exists.
 */
export async function insertFallbackNotification(
  db: Conn,
  failed: NotificationRow,
  channel: NotificationChannel,
): Promise<NotificationRow | undefined> {
  const [row] = await db<NotificationRow>('notifications')
    .insert({
      workspace_id: failed.workspace_id,
      kind: failed.kind,
      reminder_id: failed.reminder_id,
      client_id: failed.client_id,
      channel,
      status: 'queued',
      dedupe_key: `${failed.dedupe_key}:fallback:${channel}`,
      fallback_of: failed.id,
      occurrence_at: failed.occurrence_at,
      scheduled_for: failed.scheduled_for,
    })
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
 * Records one try and moves the notification on: `sent` on success, back to `queued` before a retry, `failed`,
 * `undeliverable` or `cancelled` when no retry follows (`failed` too for an `unknown` outcome). Call it in the same transaction as any row that follows the notification.
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
  const status = STATUS_AFTER[a.outcome];
  await db('notifications')
    .where({ id, workspace_id: workspaceId })
    .update({
      // A delivery callback may beat this write (Twilio calls back fast): a delivered notification stays delivered.
      status: a.outcome === 'sent' ? db.raw("CASE WHEN status = 'delivered' THEN status ELSE ? END", [status]) : status,
      attempts: db.raw('GREATEST(attempts, ?)', [a.attempt]),
      last_error: a.outcome === 'sent' ? null : (a.error ?? null),
      ...(sent
        ? { provider: sent.provider, provider_message_id: sent.providerMessageId ?? null, sent_at: sent.at }
        : {}),
      updated_at: db.fn.now(),
    });
}

/**
 * Settles a notification that is not final without a try: `failed` (nothing to send to, its day is over) or
 * `cancelled` (its reminder was paused or cancelled before it ran).
 */
export async function failNotification(
  db: Conn,
  workspaceId: string,
  id: string,
  reason: string,
  status: 'failed' | 'cancelled' = 'failed',
): Promise<void> {
  await db('notifications')
    .where({ id, workspace_id: workspaceId })
    .whereNotIn('status', FINAL_NOTIFICATION_STATUSES)
    .update({ status, last_error: reason, updated_at: db.fn.now() });
}

/** Records that dispatch job number `enqueueCount - 1` was added (the reconciler waits RECLAIM_AFTER from here). */
export async function markNotificationEnqueued(
  db: Conn,
  workspaceId: string,
  id: string,
  enqueueCount: number,
): Promise<void> {
  await db('notifications')
    .where({ id, workspace_id: workspaceId })
    .update({ enqueue_count: db.raw('GREATEST(enqueue_count, ?)', [enqueueCount]), updated_at: db.fn.now() });
}

/** markNotificationEnqueued for many notifications in one statement. */
export async function markNotificationsEnqueued(
  db: Conn,
  rows: readonly { workspaceId: string; id: string; enqueueCount: number }[],
): Promise<void> {
  if (rows.length === 0) return;
  await db.raw(
    `UPDATE notifications n
        SET enqueue_count = GREATEST(n.enqueue_count, v.enqueue_count), updated_at = now()
       FROM jsonb_to_recordset(?::jsonb) AS v(id uuid, workspace_id uuid, enqueue_count int)
      WHERE n.id = v.id AND n.workspace_id = v.workspace_id`,
    [JSON.stringify(rows.map((r) => ({ id: r.id, workspace_id: r.workspaceId, enqueue_count: r.enqueueCount })))],
  );
}

/**
 * Cancels a notification that has not been sent, or answers undefined when it is not `queued` (the caller reads its
 * current status). `reason`, when given, is recorded as last_error (a job that found its reminder paused).
 */
export async function cancelQueuedNotification(
  db: Conn,
  scope: WorkspaceScope,
  id: string,
  reason: string | null = null,
): Promise<NotificationRow | undefined> {
  const [row] = await applyScope(db<NotificationRow>('notifications').where({ id, status: 'queued' }), scope)
    .update({ status: 'cancelled', last_error: reason, updated_at: db.fn.now() })
    .returning('*');
  return row;
}

/** The statuses a notification may be sent again from. */
export const RESENDABLE_STATUSES: readonly NotificationStatus[] = ['failed', 'bounced', 'undeliverable'];

/**
 * Puts a failed, bounced or undeliverable notification (a reminder, or a birthday post that ended outcome_unknown,
 * say) back in the queue for another attempt, or answers undefined when it is not one (the caller reads its current
 * status). Its attempts stay in history.
 */
export async function requeueNotificationForResend(
  db: Conn,
  scope: WorkspaceScope,
  id: string,
): Promise<NotificationRow | undefined> {
  const [row] = await applyScope(
    db<NotificationRow>('notifications').where({ id }).whereIn('status', RESENDABLE_STATUSES),
    scope,
  )
    .update({
      status: 'queued',
      last_error: null,
      sent_at: null,
      delivered_at: null,
      provider_message_id: null,
      // A birthday post counts its jobs on its birthday_posts row: the next job id must come after those.
      enqueue_count: db.raw(
        'GREATEST(enqueue_count, COALESCE((SELECT p.enqueue_count FROM birthday_posts p WHERE p.notification_id = notifications.id), 0))',
      ),
      updated_at: db.fn.now(),
    })
    .returning('*');
  return row;
}

/** The message as it was rendered for sending, kept with the notification for its history. */
export async function setNotificationContent(
  db: Conn,
  workspaceId: string,
  id: string,
  content: { subject: string | null; body: string },
): Promise<void> {
  await db('notifications').where({ id, workspace_id: workspaceId }).update(content);
}

/**
 * Reminder notifications still `queued` (or `sending`, when asked) RECLAIM_AFTER past both their occurrence and their
 * last write, across workspaces: the reconciler's candidates for a lost job. Birthday posts have their own claim rows
 * and reclaimer.
 */
export async function findStaleQueuedReminderNotifications(
  db: Conn,
  olderThan: Date,
  opts: { workspaceId?: string; limit?: number; status?: 'queued' | 'sending' } = {},
): Promise<NotificationRow[]> {
  const q = db<NotificationRow>('notifications')
    .where({ status: opts.status ?? 'queued', kind: 'reminder' })
    .where('occurrence_at', '<=', olderThan)
    .where('updated_at', '<=', olderThan)
    .orderBy('created_at')
    .limit(opts.limit ?? 500);
  if (opts.workspaceId) q.where('workspace_id', opts.workspaceId);
  return q;
}
