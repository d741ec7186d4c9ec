// The payments API and the dashboard (issue 12): a counter for POST /payments/{id}/cancel's jobs, and covering
// indexes so that GET /dashboard/summary reads a workspace's period from indexes alone (bench/dashboard.ts).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('payments', (t) => {
    // How many cancel jobs were added; the next one's id is jobIdFor(`${id}-cancel`, cancel_enqueue_count). Kept apart
    // from checkout_enqueue_count so that a cancel never shifts the checkout jobs' ids.
    t.integer('cancel_enqueue_count').notNullable().defaultTo(0);
  });
  // Reminder notifications of a period by status, channel and failure reason: an index-only scan.
  await knex.raw(
    "CREATE INDEX notifications_dashboard_idx ON notifications (workspace_id, created_at) INCLUDE (status, channel, last_error) WHERE kind = 'reminder'",
  );
  // The first reminder a client got for a reminder: what the median time to payment starts from (index-only; a
  // reminder id belongs to one workspace, so the workspace need not be in it).
  await knex.raw(
    "CREATE INDEX notifications_reminder_client_idx ON notifications (reminder_id, client_id) INCLUDE (sent_at, created_at) WHERE kind = 'reminder' AND reminder_id IS NOT NULL",
  );
  // A period's payments by currency and status.
  await knex.raw(
    'CREATE INDEX payments_dashboard_idx ON payments (workspace_id, created_at) INCLUDE (status, currency, amount, refunded_amount, paid_at)',
  );
  await knex.raw('CREATE INDEX reminders_workspace_status_idx ON reminders (workspace_id, status, next_run_at)');
  await knex.raw('CREATE INDEX clients_workspace_active_idx ON clients (workspace_id, is_active)');
}

export async function down(knex: Knex): Promise<void> {
  for (const index of [
    'clients_workspace_active_idx',
    'reminders_workspace_status_idx',
    'payments_dashboard_idx',
    'notifications_reminder_client_idx',
    'notifications_dashboard_idx',
  ])
    await knex.raw(`DROP INDEX ${index}`);
  await knex.schema.alterTable('payments', (t) => {
    t.dropColumn('cancel_enqueue_count');
  });
}
