// Notifications: every message sent or to be sent, with one notification_attempts row per try. Dispatch workers
// find a notification by id alone (jobs carry ids only); every write after that names its workspace too. The
// history API reads them through a WorkspaceScope.
import type { Conn } from '../connection';
import { prepared, PREPARED } from '../prepared';
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
  /**
   * Dispatch job ids taken so far (added, or about to be after the commit that took them); the next one is
   * jobIdFor(id, enqueue_count).
   */
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

/** A claim of one notification for one send, with the message as rendered for its history. */
export interface NotificationClaim {
  workspaceId: string;
  id: string;
  content?: { subject: string | null; body: string };
}

/**
 * Claims a queued notification for one send (`queued -> sending`), keeping the message as rendered for its history;
 * answers false when it is not queued any more (final, or claimed by a concurrent job): nothing to send.
 */
export async function markNotificationSending(
  db: Conn,
  workspaceId: string,
  id: string,
  content?: NotificationClaim['content'],
): Promise<boolean> {
  return (await markNotificationsSending(db, [{ workspaceId, id, ...(content ? { content } : {}) }])).has(id);
}

/**
 * markNotificationSending for many notifications (jobs running together) in one statement; answers the ids claimed.
 * A notification named twice is claimed once: the caller gives it to one of them. Rows are locked in id order, as
 * recordNotificationAttempts does.
 *
 * The ids are also passed as an array (`n.id = ANY(...)`), here and in every batched write of this kind: it gives the
 * planner a primary-key lookup of known size. Joined only with jsonb_to_recordset (which it guesses at 100 rows), it
 * chose to read every queued notification and hash them, on each claim (bench/dispatch.ts: 4 ms a claim at 20,000
 * queued, a third of PostgreSQL's time).
 */
export async function markNotificationsSending(db: Conn, claims: readonly NotificationClaim[]): Promise<Set<string>> {
  if (claims.length === 0) return new Set();
  // One notification claimed twice in one statement would be updated once and answered for both.
  const unique = [...new Map(claims.map((c) => [c.id, c])).values()];
  const rows = unique.map((c) => ({
    id: c.id,
    workspace_id: c.workspaceId,
    has_content: c.content !== undefined,
    subject: c.content?.subject ?? null,
    body: c.content?.body ?? null,
  }));
  const { rows: claimed } = await prepared(
    PREPARED.claimNotifications,
    db.raw<{ rows: { id: string }[] }>(
      `WITH v AS (
       SELECT * FROM jsonb_to_recordset(?::jsonb) AS v(id uuid, workspace_id uuid, has_content boolean, subject text, body text)
     ),
     locked AS (
       SELECT n.id FROM notifications n JOIN v ON v.id = n.id AND v.workspace_id = n.workspace_id
        WHERE n.id = ANY(?::uuid[]) AND n.status = 'queued'
        ORDER BY n.id FOR UPDATE OF n
     )
     UPDATE notifications n
        SET status = 'sending',
            subject = CASE WHEN v.has_content THEN v.subject ELSE n.subject END,
            body = CASE WHEN v.has_content THEN v.body ELSE n.body END,
            updated_at = now()
       FROM v JOIN locked ON locked.id = v.id
      WHERE n.id = v.id AND n.status = 'queued'
     RETURNING n.id`,
      [JSON.stringify(rows), rows.map((r) => r.id)],
    ),
  );
  return new Set(claimed.map((r) => r.id));
}

export interface AttemptRecord {
  attempt: number;
  outcome: AttemptOutcome;
  httpStatus?: number;
  error?: string;
  durationMs: number;
}

/** One try of one notification, as recordNotificationAttempts writes it. */
export interface AttemptWrite {
  workspaceId: string;
  id: string;
  attempt: AttemptRecord;
  sent?: { provider: string; providerMessageId?: string; at: Date };
}

/**
 * Records one try and moves the notification on: `sent` on success, back to `queued` before a retry, `failed`,
 * `undeliverable` or `cancelled` when no retry follows (`failed` too for an `unknown` outcome). One statement, so
 * the attempt row and the status move together; pass the caller's transaction when other rows must follow too.
 */
export async function recordNotificationAttempt(
  db: Conn,
  workspaceId: string,
  id: string,
  a: AttemptRecord,
  sent?: AttemptWrite['sent'],
): Promise<void> {
  await recordNotificationAttempts(db, [{ workspaceId, id, attempt: a, ...(sent ? { sent } : {}) }]);
}

/**
 * recordNotificationAttempt for many notifications (each at most once) in one statement: each attempt row is
 * inserted only with its notification's move, and only for a notification of the workspace named. Rows are locked
 * in id order, so two writers of overlapping sets wait for each other instead of deadlocking. A delivery callback
 * may beat a `sent` write (Twilio calls back fast): a delivered notification stays delivered.
 */
export async function recordNotificationAttempts(db: Conn, writes: readonly AttemptWrite[]): Promise<void> {
  if (writes.length === 0) return;
  const rows = writes.map(({ workspaceId, id, attempt: a, sent }) => ({
    id,
    workspace_id: workspaceId,
    attempt: a.attempt,
    outcome: a.outcome,
    status: STATUS_AFTER[a.outcome],
    http_status: a.httpStatus ?? null,
    error: a.outcome === 'sent' ? null : (a.error ?? null),
    attempt_error: a.error ?? null,
    duration_ms: Math.max(0, Math.round(a.durationMs)),
    sent: sent !== undefined,
    provider: sent?.provider ?? null,
    provider_message_id: sent?.providerMessageId ?? null,
    sent_at: sent?.at.toISOString() ?? null,
  }));
  await prepared(
    PREPARED.recordAttempts,
    db.raw(
      `WITH v AS (
       SELECT * FROM jsonb_to_recordset(?::jsonb) AS v(
         id uuid, workspace_id uuid, attempt int, outcome text, status text, http_status int, error text,
         attempt_error text, duration_ms int, sent boolean, provider text, provider_message_id text, sent_at timestamptz)
     ),
     locked AS (
       SELECT n.id FROM notifications n JOIN v ON v.id = n.id AND v.workspace_id = n.workspace_id
        WHERE n.id = ANY(?::uuid[])
        ORDER BY n.id FOR UPDATE OF n
     ),
     moved AS (
       UPDATE notifications n
          SET status = CASE WHEN v.outcome = 'sent' AND n.status = 'delivered' THEN n.status ELSE v.status END,
              attempts = GREATEST(n.attempts, v.attempt),
              last_error = v.error,
              provider = CASE WHEN v.sent THEN v.provider ELSE n.provider END,
              provider_message_id = CASE WHEN v.sent THEN v.provider_message_id ELSE n.provider_message_id END,
              sent_at = CASE WHEN v.sent THEN v.sent_at ELSE n.sent_at END,
              updated_at = now()
         FROM v JOIN locked ON locked.id = v.id
        WHERE n.id = v.id
       RETURNING n.id
     )
     INSERT INTO notification_attempts (notification_id, attempt, outcome, http_status, error, duration_ms)
     SELECT v.id, v.attempt, v.outcome, v.http_status, v.attempt_error, v.duration_ms FROM v JOIN moved ON moved.id = v.id`,
      [JSON.stringify(rows), rows.map((r) => r.id)],
    ),
  );
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
