// What applying Stripe events needs beyond the payments schema: the owner's "a client paid" mail, due once when a
// payment becomes paid and sent once (claimed by paid_notice_sent_at), re-enqueued by the billing reconciler when its
// job was lost; the time of the last account.updated applied to a workspace, so a late one never undoes a newer one;
// and the lookup of stored refunds by payment intent (a refund may arrive before the completion that names it).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('payments', (t) => {
    t.timestamp('paid_notice_due_at', { useTz: true });
    t.timestamp('paid_notice_sent_at', { useTz: true });
    // How many payment-paid mail jobs were added; the next one's id is jobIdFor(`${id}-paid`, count).
    t.integer('paid_notice_enqueue_count').notNullable().defaultTo(0);
  });
  await knex.raw(
    'CREATE INDEX payments_paid_notice_due_idx ON payments (paid_notice_due_at) WHERE paid_notice_due_at IS NOT NULL AND paid_notice_sent_at IS NULL',
  );
  await knex.schema.alterTable('workspaces', (t) => {
    t.timestamp('stripe_account_synced_at', { useTz: true });
  });
  await knex.raw(
    "CREATE INDEX stripe_events_refund_intent_idx ON stripe_events ((payload->'data'->'object'->>'payment_intent')) WHERE type = 'charge.refunded'",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX IF EXISTS stripe_events_refund_intent_idx');
  await knex.schema.alterTable('workspaces', (t) => {
    t.dropColumn('stripe_account_synced_at');
  });
  await knex.raw('DROP INDEX IF EXISTS payments_paid_notice_due_idx');
  await knex.schema.alterTable('payments', (t) => {
    t.dropColumns('paid_notice_due_at', 'paid_notice_sent_at', 'paid_notice_enqueue_count');
  });
}
