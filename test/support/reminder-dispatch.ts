// What the suites that dispatch many reminder emails through a real `reminders` process share (the crash test of
// test/e2e and the fault suite): a due one-off reminder for `count` clients, the process spawned as the Procfile runs
// it against the fake SendGrid, and the verdict once every notification is final: lost, sent twice, outcome_unknown.
import { randomBytes } from 'node:crypto';
import type { Db, NotificationRow } from '@nudge/db';
import { spawnTs, waitFor, type FakeSendgrid, type Spawned } from '@nudge/testing';

/** One workspace, `count` clients and one email reminder due a second ago for all of them. */
export async function seedDueReminder(db: Db, count: number): Promise<{ workspaceId: string; reminderId: string }> {
  const [{ id: workspaceId }] = (await db('workspaces')
    .insert({ name: `dispatch-run-${randomBytes(4).toString('hex')}` })
    .returning('id')) as [{ id: string }];
  await db.batchInsert(
    'clients',
    Array.from({ length: count }, (_, i) => ({
      workspace_id: workspaceId,
      name: `Client ${i}`,
      email: `client-${i}@example.com`,
      timezone: 'UTC',
    })),
    1000,
  );
  const due = new Date(Date.now() - 1000);
  const [{ id: reminderId }] = (await db('reminders')
    .insert({
      workspace_id: workspaceId,
      title: 'Quarterly VAT return',
      type: 'deadline',
      message_template: 'Dear {{client.name}}, {{reminder.title}} is due.',
      channels: ['email'],
      schedule: JSON.stringify({ kind: 'once', send_at: due.toISOString() }),
      schedule_kind: 'once',
      send_at: due,
      next_run_at: due,
      created_at: new Date(Date.now() - 86_400_000),
    })
    .returning('id')) as [{ id: string }];
  await db.raw(
    `INSERT INTO reminder_clients (reminder_id, client_id, workspace_id, next_run_at)
     SELECT ?, id, workspace_id, ? FROM clients WHERE workspace_id = ?`,
    [reminderId, due, workspaceId],
  );
  return { workspaceId, reminderId };
}

/**
 * Spawns `reminders` mailing through the fake SendGrid with platform credentials, 50 sends at once, and a short job
 * lock so a killed worker's jobs are taken up again within seconds; `env` adds to or overrides that. Resolves once
 * it consumes. The process is pushed on `spawned` for the suite's after hook.
 */
export async function startRemindersWorker(
  sendgrid: FakeSendgrid,
  env: Record<string, string | undefined>,
  spawned: Spawned[],
): Promise<Spawned> {
  const worker = spawnTs('apps/worker/src/processes/reminders.ts', {
    ...process.env,
    USE_PLATFORM_CREDENTIALS: 'true',
    SENDGRID_API_KEY: sendgrid.apiKey,
    SENDGRID_API_URL: sendgrid.url,
    DISPATCH_EMAIL_CONCURRENCY: '50',
    WORKER_LOCK_SECONDS: '3',
    LOG_LEVEL: 'info',
    ...env,
  });
  spawned.push(worker);
  await waitFor(() => worker.output().includes('reminders worker consuming'), {
    timeoutMs: 60_000,
    what: 'the reminders process',
  });
  return worker;
}

/** SIGTERM to every spawned process still running, and their exits awaited (SIGKILL past 15 s). */
export async function stopAll(spawned: Spawned[]): Promise<void> {
  await Promise.all(
    spawned.map(async (w) => {
      if (w.child.exitCode !== null || w.child.signalCode !== null) return;
      w.child.kill('SIGTERM');
      const late = setTimeout(() => w.child.kill('SIGKILL'), 15_000);
      await w.exited;
      clearTimeout(late);
    }),
  );
}

/** The notifications of one workspace, or of all. */
const notificationsOf = (db: Db, workspaceId?: string) =>
  workspaceId
    ? db<NotificationRow>('notifications').where({ workspace_id: workspaceId })
    : db<NotificationRow>('notifications');

/** Notifications still queued or sending (of one workspace, or of all). */
export async function openNotifications(db: Db, workspaceId?: string): Promise<number> {
  const [{ open }] = (await notificationsOf(db, workspaceId)
    .whereIn('status', ['queued', 'sending'])
    .count({ open: '*' })) as [{ open: string }];
  return Number(open);
}

/** Waits until no notification (of one workspace, or of all) is queued or sending any more. */
export async function waitAllFinal(db: Db, timeoutMs: number, workspaceId?: string): Promise<void> {
  await waitFor(async () => (await openNotifications(db, workspaceId)) === 0, {
    timeoutMs,
    everyMs: 500,
    what: 'every notification to end final',
  });
}

/** The notification a request to the fake SendGrid was for (its custom_args). */
const notificationOf = (body: unknown): string | undefined =>
  ((body as { custom_args?: { notification_id?: string } } | undefined)?.custom_args ?? {}).notification_id;

export interface DispatchVerdict {
  rows: Pick<NotificationRow, 'id' | 'status' | 'last_error'>[];
  sent: number;
  outcomeUnknown: number;
  /** Final for another reason (a provider error after the last try). */
  failed: number;
  /** Not final, or recorded sent though the provider never accepted it. */
  lost: number;
  /** Notifications the provider accepted more than once. */
  duplicates: number;
  /** Requests per notification at the provider, faulted ones included. */
  requests: Map<string, number>;
}

/** The verdict on the notifications of one workspace, or of all. */
export async function dispatchVerdict(db: Db, sendgrid: FakeSendgrid, workspaceId?: string): Promise<DispatchVerdict> {
  const rows: DispatchVerdict['rows'] = await notificationsOf(db, workspaceId).select('id', 'status', 'last_error');
  const accepted = new Map<string, number>();
  for (const m of sendgrid.mails) {
    const id = notificationOf(m.body);
    if (id) accepted.set(id, (accepted.get(id) ?? 0) + 1);
  }
  const ours = new Set(rows.map((n) => n.id));
  const requests = new Map<string, number>();
  for (const r of sendgrid.requests) {
    const id = notificationOf(r.body);
    if (id && ours.has(id)) requests.set(id, (requests.get(id) ?? 0) + 1);
  }
  const isOpen = (n: { status: string }) => n.status === 'queued' || n.status === 'sending';
  const sentRows = rows.filter((n) => n.status === 'sent');
  const unknown = rows.filter((n) => n.last_error === 'outcome_unknown');
  return {
    rows,
    sent: sentRows.length,
    outcomeUnknown: unknown.length,
    failed: rows.filter((n) => !isOpen(n) && n.status !== 'sent' && n.last_error !== 'outcome_unknown').length,
    lost: rows.filter(isOpen).length + sentRows.filter((n) => !accepted.get(n.id)).length,
    duplicates: rows.filter((n) => (accepted.get(n.id) ?? 0) > 1).length,
    requests,
  };
}
