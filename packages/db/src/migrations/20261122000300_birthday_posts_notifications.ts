import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // One row per message sent or to be sent, whatever the channel. `dedupe_key` is the uniqueness key: for a
  // birthday post `birthday:<workspace_id>:<local_date>`; the reminders issue adds its own columns and keys.
  await knex.schema.createTable('notifications', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.text('kind').notNullable();
    t.text('channel').notNullable();
    t.text('status').notNullable().defaultTo('queued');
    t.text('dedupe_key').notNullable().unique();
    t.integer('attempts').notNullable().defaultTo(0);
    t.text('provider');
    t.text('provider_message_id');
    t.text('last_error');
    t.text('body');
    t.timestamp('scheduled_for', { useTz: true });
    t.timestamp('sent_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['workspace_id', 'created_at']);
  });
  await knex.raw(
    "ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check CHECK (kind IN ('birthday', 'reminder'))",
  );
  await knex.raw("ALTER TABLE notifications ADD CONSTRAINT notifications_channel_check CHECK (channel IN ('slack'))");
  await knex.raw(
    "ALTER TABLE notifications ADD CONSTRAINT notifications_status_check CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'bounced', 'undeliverable', 'cancelled'))",
  );

  await knex.schema.createTable('notification_attempts', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('notification_id').notNullable().references('id').inTable('notifications').onDelete('CASCADE');
    t.integer('attempt').notNullable();
    t.text('outcome').notNullable();
    t.integer('http_status');
    t.text('error');
    t.integer('duration_ms').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['notification_id', 'attempt']);
  });
  await knex.raw(
    "ALTER TABLE notification_attempts ADD CONSTRAINT notification_attempts_outcome_check CHECK (outcome IN ('sent', 'retry', 'failed'))",
  );

  // The claim on a workspace's local day: the unique key is what makes two replicas, a manual run and a rerun post
  // once. The notification is SET NULL rather than CASCADE so that pruning notification history never frees a day
  // that has already been posted.
  await knex.schema.createTable('birthday_posts', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.date('local_date').notNullable();
    t.text('status').notNullable().defaultTo('claimed');
    t.specificType('birthday_ids', 'uuid[]').notNullable().defaultTo(knex.raw("'{}'::uuid[]"));
    t.uuid('notification_id').references('id').inTable('notifications').onDelete('SET NULL');
    // How many dispatch jobs were added for the claim; the next one's id is jobIdFor(notification_id, enqueue_count).
    t.integer('enqueue_count').notNullable().defaultTo(0);
    t.timestamp('claimed_at', { useTz: true }).notNullable();
    t.timestamp('enqueued_at', { useTz: true });
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.unique(['workspace_id', 'local_date']);
  });
  await knex.raw(
    "ALTER TABLE birthday_posts ADD CONSTRAINT birthday_posts_status_check CHECK (status IN ('claimed', 'sent', 'failed'))",
  );
  // The reclaimer looks only at claims still open, a handful at any time.
  await knex.raw("CREATE INDEX birthday_posts_open_claims_idx ON birthday_posts (claimed_at) WHERE status = 'claimed'");
  await knex.raw('CREATE INDEX birthday_posts_notification_idx ON birthday_posts (notification_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('birthday_posts');
  await knex.schema.dropTable('notification_attempts');
  await knex.schema.dropTable('notifications');
}
