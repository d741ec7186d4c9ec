// Payments (issue 12): one row per payment reminder occurrence and client, its Stripe Checkout Session on the
// workspace's connected account, and the Stripe events that moved it. stripe_events is platform data (keyed by
// Stripe's event id, so a redelivered event is a no-op); it reaches a workspace only through the payment it applied to.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('workspaces', (t) => {
    // The Stripe Connect account the workspace's clients pay into; null until onboarding starts.
    t.text('stripe_account_id').unique();
    t.boolean('stripe_charges_enabled').notNullable().defaultTo(false);
    t.boolean('notify_on_payment').notNullable().defaultTo(false);
  });

  await knex.schema.createTable('payments', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.uuid('reminder_id').references('id').inTable('reminders').onDelete('SET NULL');
    t.uuid('client_id').references('id').inTable('clients').onDelete('SET NULL');
    t.uuid('notification_id').references('id').inTable('notifications').onDelete('SET NULL');
    t.timestamp('occurrence_at', { useTz: true }).notNullable();
    t.bigInteger('amount').notNullable();
    t.string('currency', 3).notNullable();
    t.text('status').notNullable().defaultTo('open');
    // The account the session lives on (null: the platform's own, USE_PLATFORM_CREDENTIALS).
    t.text('stripe_account_id');
    t.text('checkout_session_id').unique();
    t.text('checkout_url');
    t.timestamp('checkout_expires_at', { useTz: true });
    // A charge names the payment intent, not the session: charge.refunded finds the payment through it.
    t.text('payment_intent_id');
    // How many billing-checkout jobs were added; the next one's id is jobIdFor(id, checkout_enqueue_count).
    t.integer('checkout_enqueue_count').notNullable().defaultTo(0);
    t.timestamp('paid_at', { useTz: true });
    t.bigInteger('refunded_amount').notNullable().defaultTo(0);
    t.timestamp('cancel_requested_at', { useTz: true });
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw(
    "ALTER TABLE payments ADD CONSTRAINT payments_status_check CHECK (status IN ('open', 'processing', 'paid', 'failed', 'expired', 'refunded', 'cancelled'))",
  );
  await knex.raw('ALTER TABLE payments ADD CONSTRAINT payments_amount_check CHECK (amount > 0)');
  await knex.raw("ALTER TABLE payments ADD CONSTRAINT payments_currency_check CHECK (currency ~ '^[A-Z]{3}$')");
  await knex.raw(
    'ALTER TABLE payments ADD CONSTRAINT payments_refunded_amount_check CHECK (refunded_amount >= 0 AND refunded_amount <= amount)',
  );
  // One payment per reminder, client and occurrence: a scan that runs twice makes no second payment.
  await knex.raw(
    'CREATE UNIQUE INDEX payments_occurrence_key ON payments (reminder_id, client_id, occurrence_at) WHERE reminder_id IS NOT NULL AND client_id IS NOT NULL',
  );
  await knex.raw('CREATE INDEX payments_workspace_created_idx ON payments (workspace_id, created_at DESC, id DESC)');
  await knex.raw(
    'CREATE INDEX payments_notification_idx ON payments (notification_id) WHERE notification_id IS NOT NULL',
  );
  await knex.raw('CREATE INDEX payments_client_idx ON payments (client_id, reminder_id)');
  await knex.raw(
    'CREATE INDEX payments_intent_idx ON payments (payment_intent_id) WHERE payment_intent_id IS NOT NULL',
  );
  // The nightly sweep reads only payments still in flight.
  await knex.raw("CREATE INDEX payments_unsettled_idx ON payments (created_at) WHERE status IN ('open', 'processing')");

  await knex.schema.createTable('stripe_events', (t) => {
    t.text('id').primary();
    t.text('type').notNullable();
    // The connected account the event came from (Connect events), null for the platform's own.
    t.text('account');
    t.jsonb('payload').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('processed_at', { useTz: true });
    // The payment the event applied to: the only way a workspace ever sees an event.
    t.uuid('payment_id').references('id').inTable('payments').onDelete('SET NULL');
    // How many stripe-events jobs were added; the next one's id is jobIdFor(id, enqueue_count).
    t.integer('enqueue_count').notNullable().defaultTo(0);
    t.text('last_error');
  });
  await knex.raw(
    'CREATE INDEX stripe_events_unprocessed_idx ON stripe_events (received_at) WHERE processed_at IS NULL',
  );
  await knex.raw('CREATE INDEX stripe_events_payment_idx ON stripe_events (payment_id) WHERE payment_id IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('stripe_events');
  await knex.schema.dropTable('payments');
  await knex.schema.alterTable('workspaces', (t) => {
    t.dropColumns('stripe_account_id', 'stripe_charges_enabled', 'notify_on_payment');
  });
}
