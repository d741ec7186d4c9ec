import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  // Who changed what, when. Rows outlive the users they name (SET NULL) but go with their workspace.
  await knex.schema.createTable('audit_log', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('workspace_id').references('id').inTable('workspaces').onDelete('CASCADE');
    t.uuid('actor_id').references('id').inTable('users').onDelete('SET NULL');
    t.text('action').notNullable();
    t.text('target_type');
    t.uuid('target_id');
    t.jsonb('details').notNullable().defaultTo('{}');
    t.text('ip');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['workspace_id', 'created_at']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('audit_log');
}
