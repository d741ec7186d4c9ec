// The outcomes a dispatch try can end with (issue 11), beyond sent, retry and failed: `undeliverable` (the provider
// says the address itself is bad), `cancelled` (the recipient opted out or the reminder stopped while it waited) and
// `unknown` (a job found its notification already `sending`: the provider may or may not have accepted it).
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('ALTER TABLE notification_attempts DROP CONSTRAINT notification_attempts_outcome_check');
  await knex.raw(
    "ALTER TABLE notification_attempts ADD CONSTRAINT notification_attempts_outcome_check CHECK (outcome IN ('sent', 'retry', 'failed', 'undeliverable', 'cancelled', 'unknown'))",
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("DELETE FROM notification_attempts WHERE outcome IN ('undeliverable', 'cancelled', 'unknown')");
  await knex.raw('ALTER TABLE notification_attempts DROP CONSTRAINT notification_attempts_outcome_check');
  await knex.raw(
    "ALTER TABLE notification_attempts ADD CONSTRAINT notification_attempts_outcome_check CHECK (outcome IN ('sent', 'retry', 'failed'))",
  );
}
