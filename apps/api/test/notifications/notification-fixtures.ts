// Rows for the notification and send-now suites, inserted with knex: the clients API belongs to another branch, and
// a notification's history (attempts, statuses) is written by workers, not by the API.
import { randomUUID } from 'node:crypto';
import type { Db, NotificationRow } from '@nudge/db';

export async function insertClient(db: Db, workspaceId: string, name: string, extra: Record<string, unknown> = {}) {
  const [row] = await db('clients')
    .insert({ workspace_id: workspaceId, name, email: `${randomUUID()}@example.com`, timezone: 'UTC', ...extra })
    .returning<{ id: string }[]>('id');
  return row!.id;
}

export async function insertReminder(
  db: Db,
  workspaceId: string,
  clientIds: string[],
  extra: Record<string, unknown> = {},
): Promise<string> {
  const sendAt = new Date(Date.now() + 86400_000).toISOString();
  const [row] = await db('reminders')
    .insert({
      workspace_id: workspaceId,
      title: 'Payroll deadline',
      type: 'deadline',
      message_template: 'Hello {{client.name}}',
      channels: ['email'],
      schedule: JSON.stringify({ kind: 'once', send_at: sendAt }),
      schedule_kind: 'once',
      send_at: sendAt,
      ...extra,
    })
    .returning<{ id: string }[]>('id');
  const id = row!.id;
  if (clientIds.length)
    await db('reminder_clients').insert(
      clientIds.map((client_id) => ({ reminder_id: id, client_id, workspace_id: workspaceId, next_run_at: sendAt })),
    );
  return id;
}

export async function insertNotification(
  db: Db,
  workspaceId: string,
  n: Partial<NotificationRow> = {},
): Promise<NotificationRow> {
  const [row] = await db<NotificationRow>('notifications')
    .insert({
      workspace_id: workspaceId,
      kind: 'reminder',
      channel: 'email',
      status: 'queued',
      dedupe_key: `test:${randomUUID()}`,
      occurrence_at: new Date(),
      ...n,
    })
    .returning('*');
  return row!;
}
