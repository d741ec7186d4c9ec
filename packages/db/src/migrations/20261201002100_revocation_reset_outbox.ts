// Revocation that sticks, and reset requests that survive a Redis outage (issue 9):
// - password_reset_requests: a forgot-password request that could not be queued (Redis down) waits here, one per
//   user, until the reminders process queues it; the plaintext token is still only ever minted at send time.
// - refresh_tokens_revoked_at: the denylist's reload after an outage reads the families revoked in the last access-
//   token lifetime; without it, that read scans every refresh token.
import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('password_reset_requests', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('user_id').notNullable().unique().references('id').inTable('users').onDelete('CASCADE');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('CREATE INDEX refresh_tokens_revoked_at ON refresh_tokens (revoked_at) WHERE revoked_at IS NOT NULL');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX refresh_tokens_revoked_at');
  await knex.schema.dropTable('password_reset_requests');
}
