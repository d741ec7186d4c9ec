// The reminder scan's rows: the assignments (reminder, client) it claims, the notifications it inserts for them and
// the next runs it records. Send-now inserts its notifications through the same function, so a notification of a
// (reminder, client, occurrence) exists once however it came about: its dedupe_key is unique.
import type { Conn } from '../connection';
import { prepared, PREPARED } from '../prepared';
import {
  firstReceivableChannel,
  PAID_PAYMENT_STATUSES,
  intendedChannel,
  type RecipientChannel,
  type RecipientReach,
  type LeapDayRule,
  type PaymentStatus,
} from '@nudge/domain';
import type { NotificationRow } from './notifications.repository';
import { readClientNumber } from './clients.repository';
import { channelAccountFromJson, type ChannelAccountRow } from './channel-accounts.repository';

/** An assignment with what deciding its occurrences and its channel takes. */
export interface ReminderRecipient {
  reminder_id: string;
  client_id: string;
  workspace_id: string;
  next_run_at: Date | null;
  occurrence_count: number;
  reminder_created_at: Date;
  schedule: unknown;
  /** The schedule's own zone, or 'recipient'. */
  schedule_timezone: string | null;
  channels: string[];
  client_timezone: string;
  workspace_timezone: string;
  leap_day_rule: LeapDayRule;
  has_email: boolean;
  has_phone: boolean;
  has_whatsapp: boolean;
  opt_out_email: boolean;
  opt_out_sms: boolean;
  opt_out_whatsapp: boolean;
  preferred_channel: RecipientChannel | null;
  reminder_type: string;
  /** A payment reminder the client has paid: no further reminders go to them for it. */
  has_paid: boolean;
}

const RECIPIENT_COLUMNS = [
  'rc.reminder_id',
  'rc.client_id',
  'rc.workspace_id',
  'rc.next_run_at',
  'rc.occurrence_count',
  'r.created_at as reminder_created_at',
  'r.schedule',
  'r.timezone as schedule_timezone',
  'r.channels',
  'r.type as reminder_type',
  'c.timezone as client_timezone',
  'w.timezone as workspace_timezone',
  'w.leap_day_rule',
  'c.opt_out_email',
  'c.opt_out_sms',
  'c.opt_out_whatsapp',
  'c.preferred_channel',
];

function recipientsQuery(db: Conn) {
  return db('reminder_clients as rc')
    .join('reminders as r', 'r.id', 'rc.reminder_id')
    .join('clients as c', 'c.id', 'rc.client_id')
    .join('workspaces as w', 'w.id', 'rc.workspace_id')
    .where('r.status', 'active')
    .where('c.is_active', true)
    .select(
      ...RECIPIENT_COLUMNS,
      db.raw('c.email IS NOT NULL AS has_email'),
      db.raw('c.phone IS NOT NULL AS has_phone'),
      db.raw('c.whatsapp IS NOT NULL AS has_whatsapp'),
      db.raw(
        `r.type = 'payment' AND EXISTS (SELECT 1 FROM payments p WHERE p.client_id = rc.client_id
           AND p.reminder_id = rc.reminder_id AND p.status = ANY(?)) AS has_paid`,
        [[...PAID_PAYMENT_STATUSES]],
      ),
    );
}

/**
 * Claims, in the caller's transaction, the assignments of active reminders to active clients due at or before
 * `horizon`. FOR UPDATE SKIP LOCKED: a second scanner skips what the first holds, and once the first commits the
 * rows it advanced are no longer due.
 */
export async function claimDueAssignments(trx: Conn, horizon: Date, limit = 500): Promise<ReminderRecipient[]> {
  return recipientsQuery(trx)
    .where('rc.next_run_at', '<=', horizon)
    .orderBy('rc.next_run_at')
    .limit(limit)
    .forUpdate('rc')
    .skipLocked() as Promise<ReminderRecipient[]>;
}

/** The active clients of an active reminder (all of them, or those named), for send-now. */
export async function findReminderRecipients(
  db: Conn,
  workspaceId: string,
  reminderId: string,
  clientIds?: readonly string[],
): Promise<ReminderRecipient[]> {
  const q = recipientsQuery(db)
    .where({ 'rc.reminder_id': reminderId, 'rc.workspace_id': workspaceId })
    .orderBy('rc.client_id');
  if (clientIds) q.whereIn('rc.client_id', [...clientIds]);
  return q as Promise<ReminderRecipient[]>;
}

export function reachOf(r: ReminderRecipient): RecipientReach {
  return {
    hasEmail: r.has_email,
    hasPhone: r.has_phone,
    hasWhatsapp: r.has_whatsapp,
    optOut: { email: r.opt_out_email, sms: r.opt_out_sms, whatsapp: r.opt_out_whatsapp },
    preferredChannel: r.preferred_channel,
  };
}

export function reminderDedupeKey(reminderId: string, clientId: string, occurrenceAt: Date): string {
  return `reminder:${reminderId}:${clientId}:${occurrenceAt.toISOString()}`;
}

/** The reason a notification is recorded failed at once when its client can receive none of its channels. */
export const NO_CHANNEL = 'no_channel';

export interface ReminderNotificationResult {
  notification: NotificationRow;
  /** False when the (reminder, client, occurrence) already had its notification: nothing more is to be sent. */
  created: boolean;
}

/**
 * Inserts one notification per (recipient, occurrence), on the first channel the client can receive, and answers
 * each with whether it is new; an existing dedupe_key is left as it is (ON CONFLICT DO NOTHING). A client who can
 * receive none of the reminder's channels gets a `failed` notification with last_error `no_channel`, so the
 * history shows why nothing went out. Body and subject are rendered at dispatch time.
 */
export async function insertReminderNotifications(
  db: Conn,
  items: readonly { recipient: ReminderRecipient; occurrenceAt: Date }[],
  opts: {
    /**
     * Inserts each queued notification with its first job id already taken (enqueue_count 1): the caller adds
     * jobIdFor(id, 0) after the commit and records nothing more. A crash before that add leaves the reconciler a
     * notification whose job 0 does not exist, and it adds job 1 (the reclaim rule).
     */
    firstJobTaken?: boolean;
  } = {},
): Promise<ReminderNotificationResult[]> {
  if (items.length === 0) return [];
  const rows = items.map(({ recipient: r, occurrenceAt }): Partial<NotificationRow> & { dedupe_key: string } => {
    const reach = reachOf(r);
    const channel = firstReceivableChannel(r.channels, reach);
    return {
      workspace_id: r.workspace_id,
      kind: 'reminder',
      reminder_id: r.reminder_id,
      client_id: r.client_id,
      channel: channel ?? intendedChannel(r.channels, reach),
      status: channel ? 'queued' : 'failed',
      last_error: channel ? null : NO_CHANNEL,
      enqueue_count: channel && opts.firstJobTaken ? 1 : 0,
      dedupe_key: reminderDedupeKey(r.reminder_id, r.client_id, occurrenceAt),
      occurrence_at: occurrenceAt,
      scheduled_for: occurrenceAt,
    };
  });
  const inserted = await db<NotificationRow>('notifications')
    .insert(rows)
    .onConflict('dedupe_key')
    .ignore()
    .returning('*');
  const created = new Set(inserted.map((n) => n.id));
  const byKey = new Map<string, NotificationRow>(inserted.map((n) => [n.dedupe_key, n]));
  const missing = rows.map((r) => r.dedupe_key).filter((k) => !byKey.has(k));
  if (missing.length) {
    for (const n of await db<NotificationRow>('notifications').whereIn('dedupe_key', missing))
      byKey.set(n.dedupe_key, n);
  }
  return rows.flatMap((r) => {
    const n = byKey.get(r.dedupe_key);
    return n ? [{ notification: n, created: created.has(n.id) }] : [];
  });
}

export interface AssignmentAdvance {
  reminderId: string;
  clientId: string;
  /** The next run; null when the schedule is exhausted. */
  nextRunAt: Date | null;
  /** The last occurrence just taken; null leaves the recorded one. */
  lastOccurrenceAt: Date | null;
  /** How many occurrences were just taken. */
  occurrences: number;
}

/**
 * Records each assignment's next run (null: its schedule is exhausted) and the occurrences just taken, in one
 * statement for a scan batch (each assignment at most once).
 */
export async function advanceAssignments(db: Conn, advances: readonly AssignmentAdvance[]): Promise<void> {
  if (advances.length === 0) return;
  const rows = advances.map((a) => ({
    reminder_id: a.reminderId,
    client_id: a.clientId,
    next_run_at: a.nextRunAt?.toISOString() ?? null,
    last_occurrence_at: a.lastOccurrenceAt?.toISOString() ?? null,
    occurrences: a.occurrences,
  }));
  await db.raw(
    `UPDATE reminder_clients rc
        SET next_run_at = v.next_run_at,
            last_occurrence_at = COALESCE(v.last_occurrence_at, rc.last_occurrence_at),
            occurrence_count = rc.occurrence_count + v.occurrences
       FROM jsonb_to_recordset(?::jsonb)
            AS v(reminder_id uuid, client_id uuid, next_run_at timestamptz, last_occurrence_at timestamptz, occurrences int)
      WHERE rc.reminder_id = v.reminder_id AND rc.client_id = v.client_id AND rc.client_id = ANY(?::uuid[])`,
    [JSON.stringify(rows), [...new Set(rows.map((r) => r.client_id))]],
  );
}

/**
 * After assignments advanced: each reminder's next_run_at becomes its earliest assignment's, and an active reminder
 * none of whose assignments has a next run left is completed. Answers the ids completed.
 */
export async function settleRemindersAfterScan(db: Conn, reminderIds: readonly string[]): Promise<string[]> {
  if (reminderIds.length === 0) return [];
  const ids = [...new Set(reminderIds)];
  await db.raw(
    `UPDATE reminders r SET next_run_at = (SELECT min(rc.next_run_at) FROM reminder_clients rc WHERE rc.reminder_id = r.id),
       updated_at = now()
     WHERE r.id = ANY(?::uuid[])`,
    [ids],
  );
  const { rows } = await db.raw<{ rows: { id: string }[] }>(
    `UPDATE reminders r SET status = 'completed', next_run_at = NULL, updated_at = now()
     WHERE r.id = ANY(?::uuid[]) AND r.status = 'active'
       AND NOT EXISTS (SELECT 1 FROM reminder_clients rc WHERE rc.reminder_id = r.id AND rc.next_run_at IS NOT NULL)
     RETURNING r.id`,
    [ids],
  );
  return rows.map((r) => r.id);
}

/** What a dispatch job needs to render and address a reminder notification, read when it runs. */
export interface ReminderDelivery {
  reminder: {
    id: string;
    title: string;
    status: 'active' | 'paused' | 'completed' | 'cancelled';
    type: string;
    message_template: string;
    subject_template: string | null;
    document_url: string | null;
    /** In order of preference; later ones are fallbacks. */
    channels: string[];
    amount: string | number | null;
    currency: string | null;
    due_date: string | null;
  } | null;
  client: {
    id: string;
    name: string;
    email: string | null;
    locale: string | null;
    preferred_channel: 'email' | 'sms' | 'whatsapp' | null;
    is_active: boolean;
    has_phone: boolean;
    has_whatsapp: boolean;
    opt_out_email: boolean;
    opt_out_sms: boolean;
    opt_out_whatsapp: boolean;
  } | null;
}

/** The reminder's columns a dispatch job reads, as `<alias>` in a select that joins `r`. */
function reminderDeliveryColumns(db: Conn, prefix = '') {
  return [
    ...[
      'id',
      'title',
      'status',
      'type',
      'message_template',
      'subject_template',
      'document_url',
      'channels',
      'amount',
      'currency',
    ].map((c) => `r.${c} as ${prefix}${c}`),
    db.raw(`to_char(r.due_date, 'YYYY-MM-DD') AS ??`, [`${prefix}due_date`]),
  ];
}

/** The client's columns a dispatch job reads (never a number), as `<alias>` in a select that joins `c`. */
function clientDeliveryColumns(db: Conn, prefix = '') {
  return [
    ...[
      'id',
      'name',
      'email',
      'locale',
      'preferred_channel',
      'is_active',
      'opt_out_email',
      'opt_out_sms',
      'opt_out_whatsapp',
    ].map((c) => `c.${c} as ${prefix}${c}`),
    db.raw('c.phone IS NOT NULL AS ??', [`${prefix}has_phone`]),
    db.raw('c.whatsapp IS NOT NULL AS ??', [`${prefix}has_whatsapp`]),
  ];
}

export async function findReminderDelivery(
  db: Conn,
  n: Pick<NotificationRow, 'workspace_id' | 'reminder_id' | 'client_id'>,
): Promise<ReminderDelivery> {
  const reminder: unknown = n.reminder_id
    ? await db('reminders as r')
        .where({ 'r.id': n.reminder_id, 'r.workspace_id': n.workspace_id })
        .first(...reminderDeliveryColumns(db))
    : undefined;
  const client: unknown = n.client_id
    ? await db('clients as c')
        .where({ 'c.id': n.client_id, 'c.workspace_id': n.workspace_id })
        .first(...clientDeliveryColumns(db))
    : undefined;
  return {
    reminder: (reminder as ReminderDelivery['reminder'] | undefined) ?? null,
    client: (client as ReminderDelivery['client'] | undefined) ?? null,
  };
}

/** Everything a dispatch job needs to send a reminder notification, read in one query when the job runs. */
export interface ReminderDispatch extends ReminderDelivery {
  notification: NotificationRow;
  /** The client's number on the notification's channel, decrypted (sms, whatsapp); null when none or unreadable. */
  number: string | null;
  /** The workspace's active account for the notification's channel, secrets in plaintext; null for none. */
  account: ChannelAccountRow | null;
  /** The workspace's sender_name, the From display name unless the account names one. */
  senderName: string | null;
  /** This occurrence's payment (payment reminders), as the message needs it; null when none. */
  payment: { status: PaymentStatus; checkout_url: string | null } | null;
  /** Whether the client has paid for this payment reminder already (any occurrence). */
  clientPaid: boolean;
}

const REMINDER_ALIAS = 'r__';
const CLIENT_ALIAS = 'c__';
const ACCOUNT_ALIAS = 'a__';
const SENDER_NAME_ALIAS = 'w__sender_name';
const PAYMENT_ALIAS = 'p__payment';
const CLIENT_PAID_ALIAS = 'p__client_paid';
const JOINED = [REMINDER_ALIAS, CLIENT_ALIAS, ACCOUNT_ALIAS, SENDER_NAME_ALIAS, PAYMENT_ALIAS, CLIENT_PAID_ALIAS];

/** Which of a joined row's columns go where, and under what name: worked out once per query, not per row. */
interface ColumnSplit {
  own: string[];
  reminder: [from: string, to: string][];
  client: [from: string, to: string][];
}

function splitColumns(row: Record<string, unknown>): ColumnSplit {
  const split: ColumnSplit = { own: [], reminder: [], client: [] };
  for (const k of Object.keys(row)) {
    if (k.startsWith(REMINDER_ALIAS)) split.reminder.push([k, k.slice(REMINDER_ALIAS.length)]);
    else if (k.startsWith(CLIENT_ALIAS)) split.client.push([k, k.slice(CLIENT_ALIAS.length)]);
    else if (!JOINED.some((p) => k.startsWith(p))) split.own.push(k);
  }
  return split;
}

/**
 * The columns of one part of a joined row, renamed. Picked by a list made once: walking each row's entries was
 * 7% of what the dispatching thread allocated (three arrays of ~60 pairs a notification).
 */
function picked(
  row: Record<string, unknown>,
  columns: readonly (readonly [string, string])[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [from, to] of columns) out[to] = row[from];
  return out;
}

/** The notification's own columns of a joined row (`n.*`, unprefixed). */
function notificationOf(row: Record<string, unknown>, own: readonly string[]): NotificationRow {
  const out: Record<string, unknown> = {};
  for (const k of own) out[k] = row[k];
  return out as unknown as NotificationRow;
}

/**
 * A notification with its reminder, client, sender name and channel account in one query (a job's only read before
 * it claims): what findNotificationForDispatch, findReminderDelivery, findClient, findActiveChannelAccount and
 * findWorkspaceById would answer together. Undefined when the notification does not exist.
 */
export async function findReminderDispatch(db: Conn, id: string): Promise<ReminderDispatch | undefined> {
  return (await findReminderDispatches(db, [id])).get(id);
}

/** findReminderDispatch for many notifications in one query (jobs running together), by notification id. */
export async function findReminderDispatches(db: Conn, ids: readonly string[]): Promise<Map<string, ReminderDispatch>> {
  const found = new Map<string, ReminderDispatch>();
  if (ids.length === 0) return found;
  const rows = (await prepared(
    PREPARED.loadReminderDispatches,
    db('notifications as n')
      .leftJoin('reminders as r', function () {
        this.on('r.id', 'n.reminder_id').andOn('r.workspace_id', 'n.workspace_id');
      })
      .leftJoin('clients as c', function () {
        this.on('c.id', 'n.client_id').andOn('c.workspace_id', 'n.workspace_id');
      })
      .join('workspaces as w', 'w.id', 'n.workspace_id')
      .leftJoin('channel_accounts as a', function () {
        this.on('a.workspace_id', 'n.workspace_id')
          .andOn('a.channel', 'n.channel')
          .andOn('a.is_active', db.raw('true'));
      })
      .whereRaw('n.id = ANY(?::uuid[])', [[...new Set(ids)]])
      .select(
        'n.*',
        ...reminderDeliveryColumns(db, REMINDER_ALIAS),
        ...clientDeliveryColumns(db, CLIENT_ALIAS),
        db.raw(`CASE n.channel WHEN 'sms' THEN c.phone WHEN 'whatsapp' THEN c.whatsapp END AS ??`, [
          `${CLIENT_ALIAS}stored_number`,
        ]),
        `w.sender_name as ${SENDER_NAME_ALIAS}`,
        db.raw('row_to_json(a.*) AS ??', [`${ACCOUNT_ALIAS}row`]),
        db.raw(
          `(SELECT json_build_object('status', p.status, 'checkout_url', p.checkout_url) FROM payments p
           WHERE p.workspace_id = n.workspace_id AND p.reminder_id = n.reminder_id AND p.client_id = n.client_id
             AND p.occurrence_at = n.occurrence_at) AS ??`,
          [PAYMENT_ALIAS],
        ),
        db.raw(
          `r.type = 'payment' AND EXISTS (SELECT 1 FROM payments p WHERE p.workspace_id = n.workspace_id
           AND p.reminder_id = n.reminder_id AND p.client_id = n.client_id AND p.status = ANY(?)) AS ??`,
          [[...PAID_PAYMENT_STATUSES], CLIENT_PAID_ALIAS],
        ),
      ),
  )) as Record<string, unknown>[];
  if (rows.length === 0) return found;
  const { own, reminder: reminderColumns, client: clientColumns } = splitColumns(rows[0]!);
  for (const row of rows) {
    const reminder = picked(row, reminderColumns);
    const { stored_number: stored, ...client } = picked(row, clientColumns);
    const n = notificationOf(row, own);
    const account = row[`${ACCOUNT_ALIAS}row`] as Record<string, unknown> | null;
    found.set(n.id, {
      notification: n,
      reminder: reminder.id ? (reminder as unknown as ReminderDelivery['reminder']) : null,
      client: client.id ? (client as unknown as ReminderDelivery['client']) : null,
      number:
        typeof stored === 'string' && (n.channel === 'sms' || n.channel === 'whatsapp')
          ? readClientNumber(stored, n.channel === 'sms' ? 'phone' : 'whatsapp', client.id as string)
          : null,
      account: account ? channelAccountFromJson(account) : null,
      senderName: (row[SENDER_NAME_ALIAS] as string | null) ?? null,
      payment: (row[PAYMENT_ALIAS] as ReminderDispatch['payment']) ?? null,
      clientPaid: row[CLIENT_PAID_ALIAS] === true,
    });
  }
  return found;
}
