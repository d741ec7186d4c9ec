import type { Knex } from 'knex';

export async function up(knex: Knex): Promise<void> {
  await knex.raw('CREATE EXTENSION IF NOT EXISTS pgcrypto');

  await knex.schema.createTable('workspaces', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('name').notNullable();
    t.text('timezone').notNullable().defaultTo('America/New_York');
    t.string('birthday_post_time', 5).notNullable().defaultTo('09:00');
    t.text('birthday_message_template');
    t.text('leap_day_rule').notNullable().defaultTo('feb28');
    t.text('slack_webhook');
    t.text('slack_status').notNullable().defaultTo('ok');
    t.text('sender_name');
    t.specificType('default_channels', 'text[]').notNullable().defaultTo(knex.raw("'{}'::text[]"));
    t.string('currency', 3).notNullable().defaultTo('usd');
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  await knex.raw('CREATE UNIQUE INDEX workspaces_name_lower_unique ON workspaces (lower(name))');
  await knex.raw(
    "ALTER TABLE workspaces ADD CONSTRAINT workspaces_leap_day_rule_check CHECK (leap_day_rule IN ('feb28', 'mar1'))",
  );
  await knex.raw(
    "ALTER TABLE workspaces ADD CONSTRAINT workspaces_slack_status_check CHECK (slack_status IN ('ok', 'broken'))",
  );
  await knex.raw(
    "ALTER TABLE workspaces ADD CONSTRAINT workspaces_post_time_check CHECK (birthday_post_time ~ '^([01][0-9]|2[0-3]):[0-5][0-9]$')",
  );

  await knex.schema.createTable('users', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.text('email').notNullable();
    t.text('password_hash').notNullable();
    t.text('name');
    t.date('date_of_birth');
    t.text('timezone').notNullable().defaultTo('America/New_York');
    t.uuid('workspace_id').references('id').inTable('workspaces').onDelete('SET NULL');
    t.text('role');
    t.boolean('is_superuser').notNullable().defaultTo(false);
    t.boolean('is_active').notNullable().defaultTo(true);
    t.boolean('is_verified').notNullable().defaultTo(false);
    t.integer('token_version').notNullable().defaultTo(0);
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.index(['workspace_id']);
  });
  await knex.raw('CREATE UNIQUE INDEX users_email_lower_unique ON users (lower(email))');
  await knex.raw("ALTER TABLE users ADD CONSTRAINT users_role_check CHECK (role IN ('owner', 'admin', 'member'))");

  await knex.schema.createTable('birthdays', (t) => {
    t.uuid('id').primary().defaultTo(knex.raw('gen_random_uuid()'));
    t.uuid('user_id').unique().references('id').inTable('users').onDelete('CASCADE');
    t.uuid('workspace_id').notNullable().references('id').inTable('workspaces').onDelete('CASCADE');
    t.text('name').notNullable();
    t.date('date_of_birth').notNullable();
    t.timestamp('created_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
    t.timestamp('updated_at', { useTz: true }).notNullable().defaultTo(knex.fn.now());
  });
  // month*100 + day, derived by PostgreSQL so it can never disagree with date_of_birth; indexed for "who is today".
  await knex.raw(
    'ALTER TABLE birthdays ADD COLUMN birth_md smallint GENERATED ALWAYS AS ((extract(month from date_of_birth) * 100 + extract(day from date_of_birth))::smallint) STORED',
  );
  await knex.raw('CREATE INDEX birthdays_birth_md_workspace_idx ON birthdays (birth_md, workspace_id)');
  await knex.raw('CREATE INDEX birthdays_workspace_idx ON birthdays (workspace_id)');
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('birthdays');
  await knex.schema.dropTable('users');
  await knex.schema.dropTable('workspaces');
}
