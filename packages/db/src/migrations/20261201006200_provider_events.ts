// Provider webhook events already applied (issue 11): a SendGrid batch delivered twice, or one event in two
// batches, is applied once, deduplicated on the provider's own event id (sg_event_id).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('provider_events', (t) => {
    t.text('provider').notNullable();
    t.text('event_id').notNullable();
    t.timestamp('received_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.primary(['provider', 'event_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('provider_events');
}
