// Reminders and their assignments (reminder, client), each assignment with its own next run: a 'recipient'
// schedule runs in each client's zone. The API writes the next runs it computes (on create, a schedule change, new
// clients, resume); the scan advances them. reminders.next_run_at is kept as the earliest of its assignments'.
import type { Conn } from '../connection';
import { applyScope, type WorkspaceScope } from '../scope';
import { CURSOR_AT_SQL, type KeysetPosition } from '../pagination';

export type ReminderType = 'payment' | 'deadline' | 'notification';
export type ReminderStatus = 'active' | 'paused' | 'completed' | 'cancelled';
export type ReminderChannel = 'email' | 'sms' | 'whatsapp' | 'auto';

export interface ReminderRow {
  id: string;
  workspace_id: string;
  created_by: string | null;
  title: string;
  type: ReminderType;
  document_url: string | null;
  message_template: string;
  subject_template: string | null;
  channels: ReminderChannel[];
  /** The schedule exactly as the caller gave it (a ReminderSchedule of @nudge/domain). */
  schedule: Record<string, unknown>;
  schedule_kind: 'once' | 'recurring';
  send_at: Date | null;
  rrule: string | null;
  timezone: string | null;
  starts_at: Date | null;
  until: Date | null;
  count: number | null;
  status: ReminderStatus;
  amount: number | null;
  currency: string | null;
  due_date: string | null;
  next_run_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** A reminder with the ids of its clients, in the order they were assigned. */
export type ReminderWithClients = ReminderRow & { client_ids: string[] };

export type ReminderFields = Omit<
  ReminderRow,
  'id' | 'workspace_id' | 'status' | 'next_run_at' | 'created_at' | 'updated_at'
>;
export type ReminderPatch = Partial<Omit<ReminderFields, 'created_by'>> & { status?: ReminderStatus };

export interface AssignmentRow {
  reminder_id: string;
  client_id: string;
  workspace_id: string;
  next_run_at: Date | null;
  last_occurrence_at: Date | null;
  occurrence_count: number;
  created_at: Date;
}

/** What scheduling and rendering need of a client; no encrypted column is read. */
export interface ReminderClientInfo {
  id: string;
  name: string;
  timezone: string;
  locale: string | null;
  preferred_channel: 'email' | 'sms' | 'whatsapp' | null;
}

const CLIENT_IDS = `COALESCE((SELECT array_agg(rc.client_id ORDER BY rc.created_at, rc.client_id)
  FROM reminder_clients rc WHERE rc.reminder_id = reminders.id), '{}') AS client_ids`;

function withClients(db: Conn) {
  return db<ReminderWithClients>('reminders').select('reminders.*', db.raw(CLIENT_IDS));
}

export async function insertReminder(db: Conn, workspaceId: string, fields: ReminderFields): Promise<ReminderRow> {
  const [row] = await db<ReminderRow>('reminders')
    .insert({ ...fields, workspace_id: workspaceId, schedule: JSON.stringify(fields.schedule) as never })
    .returning('*');
  return row as ReminderRow;
}

export async function findReminder(
  db: Conn,
  scope: WorkspaceScope,
  id: string,
): Promise<ReminderWithClients | undefined> {
  const row: unknown = await applyScope(
    withClients(db).where('reminders.id', id),
    scope,
    'reminders.workspace_id',
  ).first();
  return row as ReminderWithClients | undefined;
}

/** The reminder, locked for the rest of the transaction, so two writers cannot interleave their next-run updates. */
export async function lockReminder(db: Conn, scope: WorkspaceScope, id: string): Promise<ReminderRow | undefined> {
  return applyScope(db<ReminderRow>('reminders').where({ id }), scope).forUpdate().first();
}

export interface ReminderFilter {
  status?: ReminderStatus;
  type?: ReminderType;
  client_id?: string;
  /** Keyset position: rows strictly after it in (created_at, id) order. */
  after?: KeysetPosition;
  limit: number;
}

/** A page of reminders in (created_at, id) order. */
export async function listReminders(
  db: Conn,
  scope: WorkspaceScope,
  f: ReminderFilter,
): Promise<(ReminderWithClients & { cursor_at: string })[]> {
  const q = applyScope(withClients(db).select(db.raw(CURSOR_AT_SQL('reminders'))), scope, 'reminders.workspace_id');
  if (f.status) q.where('reminders.status', f.status);
  if (f.type) q.where('reminders.type', f.type);
  if (f.client_id) {
    q.whereExists(
      db('reminder_clients')
        .select(db.raw('1'))
        .whereRaw('reminder_clients.reminder_id = reminders.id')
        .where('reminder_clients.client_id', f.client_id),
    );
  }
  if (f.after) {
    q.whereRaw('(reminders.created_at, reminders.id) > (?::timestamptz, ?)', [f.after.at, f.after.id]);
  }
  const rows: unknown = await q
    .orderBy([{ column: 'reminders.created_at' }, { column: 'reminders.id' }])
    .limit(f.limit);
  return rows as (ReminderWithClients & { cursor_at: string })[];
}

export async function updateReminderRow(
  db: Conn,
  workspaceId: string,
  id: string,
  patch: ReminderPatch,
): Promise<void> {
  const values: Record<string, unknown> = { ...patch, updated_at: db.fn.now() };
  if (patch.schedule) values.schedule = JSON.stringify(patch.schedule);
  await db('reminders').where({ id, workspace_id: workspaceId }).update(values);
}

/** The clients of a workspace among `ids`; an id of another workspace or of no client is simply absent. */
export async function findReminderClients(
  db: Conn,
  workspaceId: string,
  ids: readonly string[],
): Promise<ReminderClientInfo[]> {
  if (!ids.length) return [];
  const rows: unknown = await db('clients')
    .select('id', 'name', 'timezone', 'locale', 'preferred_channel')
    .where({ workspace_id: workspaceId })
    .whereIn('id', [...ids]);
  return rows as ReminderClientInfo[];
}

/** A reminder's assignments with their clients, in the order they were assigned. */
export async function listAssignments(
  db: Conn,
  reminderId: string,
): Promise<(AssignmentRow & { client: ReminderClientInfo })[]> {
  const rows = await db('reminder_clients as rc')
    .join('clients as c', 'c.id', 'rc.client_id')
    .select('rc.*', 'c.name', 'c.timezone', 'c.locale', 'c.preferred_channel')
    .where('rc.reminder_id', reminderId)
    .orderBy([{ column: 'rc.created_at' }, { column: 'rc.client_id' }]);
  return (rows as (AssignmentRow & Omit<ReminderClientInfo, 'id'>)[]).map((r) => ({
    reminder_id: r.reminder_id,
    client_id: r.client_id,
    workspace_id: r.workspace_id,
    next_run_at: r.next_run_at,
    last_occurrence_at: r.last_occurrence_at,
    occurrence_count: r.occurrence_count,
    created_at: r.created_at,
    client: {
      id: r.client_id,
      name: r.name,
      timezone: r.timezone,
      locale: r.locale,
      preferred_channel: r.preferred_channel,
    },
  }));
}

/** Adds assignments; one that exists already is left as it is. */
export async function insertAssignments(
  db: Conn,
  workspaceId: string,
  reminderId: string,
  rows: { client_id: string; next_run_at: Date | null }[],
): Promise<void> {
  if (!rows.length) return;
  await db('reminder_clients')
    .insert(rows.map((r) => ({ ...r, reminder_id: reminderId, workspace_id: workspaceId })))
    .onConflict(['reminder_id', 'client_id'])
    .ignore();
}

export async function deleteAssignments(db: Conn, reminderId: string, clientIds: readonly string[]): Promise<void> {
  if (!clientIds.length) return;
  await db('reminder_clients')
    .where({ reminder_id: reminderId })
    .whereIn('client_id', [...clientIds])
    .delete();
}

/** Sets each listed assignment's next run, then the reminder's own (the earliest). */
export async function setAssignmentNextRuns(
  db: Conn,
  reminderId: string,
  runs: { client_id: string; next_run_at: Date | null }[],
): Promise<void> {
  if (runs.length) {
    await db.raw(
      `UPDATE reminder_clients rc SET next_run_at = v.next_run_at
       FROM jsonb_to_recordset(?::jsonb) AS v(client_id uuid, next_run_at timestamptz)
       WHERE rc.reminder_id = ? AND rc.client_id = v.client_id`,
      [JSON.stringify(runs), reminderId],
    );
  }
  await refreshReminderNextRun(db, reminderId);
}

/** reminders.next_run_at := the earliest next run of its assignments (null when none has one). */
export async function refreshReminderNextRun(db: Conn, reminderId: string): Promise<void> {
  await db.raw(
    `UPDATE reminders SET next_run_at =
       (SELECT min(next_run_at) FROM reminder_clients WHERE reminder_id = reminders.id)
     WHERE id = ?`,
    [reminderId],
  );
}

/** Stops every run of a reminder: it is paused, cancelled or completed. */
export async function clearReminderRuns(db: Conn, reminderId: string): Promise<void> {
  await db('reminder_clients').where({ reminder_id: reminderId }).update({ next_run_at: null });
  await db('reminders').where({ id: reminderId }).update({ next_run_at: null });
}

/** A one-time reminder that has run: completed, with nothing left to run. Answers whether it was still active. */
export async function markReminderCompleted(db: Conn, reminderId: string): Promise<boolean> {
  const n = await db('reminders')
    .where({ id: reminderId, status: 'active' })
    .update({ status: 'completed', next_run_at: null, updated_at: db.fn.now() });
  if (n) await db('reminder_clients').where({ reminder_id: reminderId }).update({ next_run_at: null });
  return n > 0;
}
