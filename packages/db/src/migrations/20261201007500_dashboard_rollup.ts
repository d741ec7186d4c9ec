// The dashboard on large workspaces (issue 12, point 7): reminder notifications counted per UTC day by a periodic job
// (notification_daily_counts, maintained by rollUpNotificationCounts), an index on updated_at that finds the days
// changed since its last run, and on each payment the instant its wait began, so the median needs no probe per
// payment. The rollup is derived data: it goes with its workspace (ON DELETE CASCADE).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('notification_daily_counts', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    // The UTC day of the notifications' created_at.
    t.date('day').notNullable();
    t.text('channel').notNullable();
    t.text('status').notNullable();
    // For a failed, bounced or undeliverable notification its last_error ('unknown' when none); null otherwise.
    t.text('failure_reason');
    t.integer('count').notNullable();
  });
  // One row per group; also what the dashboard reads a workspace's days by.
  await knex.raw(
    'CREATE UNIQUE INDEX notification_daily_counts_key ON notification_daily_counts (workspace_id, day, channel, status, failure_reason) NULLS NOT DISTINCT',
  );

  // One row: how far the rollup goes. Days before covered_until (a UTC date) are counted in notification_daily_counts
  // as of the job's last snapshot; every reminder notification changed since has updated_at >= watermark.
  await knex.schema.createTable('notification_rollup_state', (t) => {
    t.boolean('id').primary().defaultTo(true);
    t.date('covered_until');
    t.timestamp('watermark', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('ALTER TABLE notification_rollup_state ADD CONSTRAINT notification_rollup_state_one_row CHECK (id)');
  await knex('notification_rollup_state').insert({ id: true });

  // The days a workspace's reminder notifications changed on since an instant: the job's and the dashboard's.
  await knex.raw(
    "CREATE INDEX notifications_changed_idx ON notifications (workspace_id, updated_at) INCLUDE (created_at) WHERE kind = 'reminder'",
  );

  // When the wait for a paid payment began, set with paid_at: the first reminder its client got for its reminder
  // (sent, or queued when it never left) before the payment, else the payment's own creation.
  await knex.schema.alterTable('payments', (t) => {
    t.timestamp('waiting_since', { useTz: true });
  });
  await knex.raw(
    `UPDATE payments p SET waiting_since = coalesce((
       SELECT min(coalesce(n.sent_at, n.created_at)) FROM notifications n
        WHERE n.reminder_id = p.reminder_id AND n.client_id = p.client_id AND n.kind = 'reminder'
          AND n.reminder_id IS NOT NULL AND n.created_at <= p.paid_at), p.created_at)
      WHERE p.paid_at IS NOT NULL`,
  );
  // The median reads waiting_since beside paid_at from the covering index.
  await knex.raw('DROP INDEX payments_dashboard_idx');
  await knex.raw(
    'CREATE INDEX payments_dashboard_idx ON payments (workspace_id, created_at) INCLUDE (status, currency, amount, refunded_amount, paid_at, waiting_since)',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX payments_dashboard_idx');
  await knex.raw(
    'CREATE INDEX payments_dashboard_idx ON payments (workspace_id, created_at) INCLUDE (status, currency, amount, refunded_amount, paid_at)',
  );
  await knex.schema.alterTable('payments', (t) => {
    t.dropColumn('waiting_since');
  });
  await knex.raw('DROP INDEX notifications_changed_idx');
  await knex.schema.dropTable('notification_rollup_state');
  await knex.schema.dropTable('notification_daily_counts');
}
