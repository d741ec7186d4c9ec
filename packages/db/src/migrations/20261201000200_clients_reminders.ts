// The Reminder App's data (issue 10): clients, a workspace's own channel accounts, reminders and their
// assignments, and the columns notifications need for reminders. Every ON DELETE rule is stated here:
// - a workspace takes everything of its own with it (CASCADE);
// - deleting a client or a reminder keeps notification history: the notification's client_id / reminder_id is set
//   null, while the client's assignments go (CASCADE), since an assignment means nothing without its client.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // One currency rule everywhere: ISO 4217, stored upper-case.
  await knex.raw('UPDATE workspaces SET currency = upper(currency)');
  await knex.raw("ALTER TABLE workspaces ALTER COLUMN currency SET DEFAULT 'USD'");
  await knex.raw("ALTER TABLE workspaces ADD CONSTRAINT workspaces_currency_check CHECK (currency ~ '^[A-Z]{3}$')");

  await knex.schema.createTable('clients', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.text('name').notNullable();
    t.text('email');
    // E.164 numbers, encrypted (ENCRYPTED_COLUMNS), each with a keyed hash (HMAC-SHA256 under SEARCH_HASH_KEY) so
    // that an inbound message can find its client without decrypting every row.
    t.text('phone');
    t.text('phone_hash');
    t.text('whatsapp');
    t.text('whatsapp_hash');
    t.text('preferred_channel');
    t.text('timezone').notNullable();
    t.text('locale');
    t.text('notes');
    t.text('external_ref');
    t.boolean('is_active').notNullable().defaultTo(true);
    t.boolean('opt_out_email').notNullable().defaultTo(false);
    t.boolean('opt_out_sms').notNullable().defaultTo(false);
    t.boolean('opt_out_whatsapp').notNullable().defaultTo(false);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    "ALTER TABLE clients ADD CONSTRAINT clients_preferred_channel_check CHECK (preferred_channel IN ('email', 'sms', 'whatsapp'))",
  );
  // The import upserts by external_ref, else by email: each key is unique within a workspace where it decides.
  await knex.raw(
    'CREATE UNIQUE INDEX clients_workspace_external_ref_unique ON clients (workspace_id, external_ref) WHERE external_ref IS NOT NULL',
  );
  await knex.raw(
    'CREATE UNIQUE INDEX clients_workspace_email_unique ON clients (workspace_id, lower(email)) WHERE email IS NOT NULL AND external_ref IS NULL',
  );
  await knex.raw('CREATE INDEX clients_workspace_name_idx ON clients (workspace_id, lower(name), id)');
  await knex.raw(
    'CREATE INDEX clients_workspace_phone_hash_idx ON clients (workspace_id, phone_hash) WHERE phone_hash IS NOT NULL',
  );
  await knex.raw(
    'CREATE INDEX clients_workspace_whatsapp_hash_idx ON clients (workspace_id, whatsapp_hash) WHERE whatsapp_hash IS NOT NULL',
  );

  // A workspace's own provider account for a channel: email by SendGrid or SMTP, SMS and WhatsApp by Twilio.
  // `credentials` is an encrypted JSON object (API key, SMTP URL, auth token); the sender identity is not secret.
  await knex.schema.createTable('channel_accounts', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.text('channel').notNullable();
    t.text('provider').notNullable();
    t.text('name');
    t.text('from_email');
    t.text('from_name');
    t.text('account_sid');
    t.text('sms_from');
    t.text('whatsapp_from');
    t.text('credentials');
    t.boolean('is_active').notNullable().defaultTo(true);
    t.timestamp('last_test_at', { useTz: true });
    t.text('last_test_status');
    t.text('last_test_error');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    "ALTER TABLE channel_accounts ADD CONSTRAINT channel_accounts_channel_check CHECK (channel IN ('email', 'sms', 'whatsapp'))",
  );
  await knex.raw(
    "ALTER TABLE channel_accounts ADD CONSTRAINT channel_accounts_provider_check CHECK (provider IN ('sendgrid', 'smtp', 'twilio'))",
  );
  await knex.raw(
    "ALTER TABLE channel_accounts ADD CONSTRAINT channel_accounts_test_status_check CHECK (last_test_status IN ('queued', 'ok', 'failed'))",
  );
  // One active account per channel: adapter resolution must never have to choose.
  await knex.raw(
    'CREATE UNIQUE INDEX channel_accounts_one_active_per_channel ON channel_accounts (workspace_id, channel) WHERE is_active',
  );

  await knex.schema.createTable('reminders', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.uuid('created_by').references('id').inTable('users').onDelete('SET NULL');
    t.text('title').notNullable();
    t.text('type').notNullable();
    t.text('document_url');
    t.text('message_template').notNullable();
    t.text('subject_template');
    // In order of preference, later ones are fallbacks: email, sms, whatsapp, or auto (the client's preferred one).
    t.specificType('channels', 'text[]').notNullable();
    // The schedule as the caller gave it (echoed back), and its parts as columns for the scheduler.
    t.jsonb('schedule').notNullable();
    t.text('schedule_kind').notNullable();
    t.timestamp('send_at', { useTz: true });
    t.text('rrule');
    // An IANA zone, or 'recipient': each client's occurrences follow the client's own zone.
    t.text('timezone');
    t.timestamp('starts_at', { useTz: true });
    t.timestamp('until', { useTz: true });
    t.integer('count');
    t.text('status').notNullable().defaultTo('active');
    t.bigInteger('amount');
    t.string('currency', 3);
    t.date('due_date');
    t.timestamp('next_run_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    "ALTER TABLE reminders ADD CONSTRAINT reminders_type_check CHECK (type IN ('payment', 'deadline', 'notification'))",
  );
  await knex.raw(
    "ALTER TABLE reminders ADD CONSTRAINT reminders_schedule_kind_check CHECK (schedule_kind IN ('once', 'recurring'))",
  );
  await knex.raw(
    "ALTER TABLE reminders ADD CONSTRAINT reminders_status_check CHECK (status IN ('active', 'paused', 'completed', 'cancelled'))",
  );
  await knex.raw("ALTER TABLE reminders ADD CONSTRAINT reminders_currency_check CHECK (currency ~ '^[A-Z]{3}$')");
  await knex.raw(
    "ALTER TABLE reminders ADD CONSTRAINT reminders_payment_amount_check CHECK (type <> 'payment' OR (amount IS NOT NULL AND amount > 0 AND currency IS NOT NULL))",
  );
  await knex.raw('CREATE INDEX reminders_workspace_created_idx ON reminders (workspace_id, created_at, id)');

  // Which clients a reminder goes to. Each assignment has its own next run: a 'recipient' schedule runs in each
  // client's own zone. The scan claims due rows with FOR UPDATE SKIP LOCKED through the partial index.
  await knex.schema.createTable('reminder_clients', (t) => {
    t.uuid('reminder_id').notNullable().references('id').inTable('reminders').onDelete('CASCADE');
    t.uuid('client_id').notNullable().references('id').inTable('clients').onDelete('CASCADE');
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.timestamp('next_run_at', { useTz: true });
    t.timestamp('last_occurrence_at', { useTz: true });
    t.integer('occurrence_count').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['reminder_id', 'client_id']);
  });
  await knex.raw(
    'CREATE INDEX reminder_clients_due_idx ON reminder_clients (next_run_at) WHERE next_run_at IS NOT NULL',
  );
  await knex.raw('CREATE INDEX reminder_clients_client_idx ON reminder_clients (client_id)');

  await knex.schema.alterTable('notifications', (t) => {
    t.uuid('reminder_id').references('id').inTable('reminders').onDelete('SET NULL');
    t.uuid('client_id').references('id').inTable('clients').onDelete('SET NULL');
    t.timestamp('occurrence_at', { useTz: true });
    t.timestamp('delivered_at', { useTz: true });
    t.uuid('fallback_of').references('id').inTable('notifications').onDelete('SET NULL');
    t.text('subject');
    // How many dispatch jobs were added; the next one's id is jobIdFor(id, enqueue_count) (BullMQ ignores an add
    // whose id a finished job still holds).
    t.integer('enqueue_count').notNullable().defaultTo(0);
  });
  await knex.raw('ALTER TABLE notifications DROP CONSTRAINT notifications_channel_check');
  await knex.raw(
    "ALTER TABLE notifications ADD CONSTRAINT notifications_channel_check CHECK (channel IN ('slack', 'email', 'sms', 'whatsapp'))",
  );
  await knex.raw(
    'CREATE INDEX notifications_reminder_idx ON notifications (reminder_id) WHERE reminder_id IS NOT NULL',
  );
  await knex.raw('CREATE INDEX notifications_client_idx ON notifications (client_id) WHERE client_id IS NOT NULL');
  // The reconciler looks only at notifications still queued, a handful at any time.
  await knex.raw("CREATE INDEX notifications_queued_idx ON notifications (created_at) WHERE status = 'queued'");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX notifications_queued_idx');
  await knex.raw("DELETE FROM notifications WHERE channel <> 'slack'");
  await knex.raw('ALTER TABLE notifications DROP CONSTRAINT notifications_channel_check');
  await knex.raw("ALTER TABLE notifications ADD CONSTRAINT notifications_channel_check CHECK (channel IN ('slack'))");
  await knex.schema.alterTable('notifications', (t) => {
    t.dropColumns(
      'reminder_id',
      'client_id',
      'occurrence_at',
      'delivered_at',
      'fallback_of',
      'subject',
      'enqueue_count',
    );
  });
  await knex.schema.dropTable('reminder_clients');
  await knex.schema.dropTable('reminders');
  await knex.schema.dropTable('channel_accounts');
  await knex.schema.dropTable('clients');
  await knex.raw('ALTER TABLE workspaces DROP CONSTRAINT workspaces_currency_check');
  await knex.raw("ALTER TABLE workspaces ALTER COLUMN currency SET DEFAULT 'usd'");
  await knex.raw('UPDATE workspaces SET currency = lower(currency)');
}
