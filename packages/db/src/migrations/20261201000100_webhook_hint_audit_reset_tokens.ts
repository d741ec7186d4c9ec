// Safe failure and abuse resistance (issue 9):
// - workspaces.slack_webhook_hint: the masked webhook (scheme, host, last 4 characters) stored beside the ciphertext,
//   so listings never decrypt; a ciphertext that no longer decrypts is flagged `undecryptable` instead of failing
//   every read of its workspace.
// - audit_log keeps its entries when their workspace is deleted (workspace_id set null, no longer cascaded).
// - password_reset_tokens: at most one live (unused) token per user.
// The mask and the cipher context are spelled out here so that this migration keeps meaning what it meant.
import type { Knex } from 'knex';
import { getFieldCipher } from '@nudge/crypto';

const BATCH = 500;

function mask(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/services/****${url.slice(-4)}`;
  } catch {
    return `****${url.slice(-4)}`;
  }
}

export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('workspaces', (t) => {
    t.text('slack_webhook_hint');
  });
  await knex.raw('ALTER TABLE workspaces DROP CONSTRAINT workspaces_slack_status_check');
  await knex.raw(
    "ALTER TABLE workspaces ADD CONSTRAINT workspaces_slack_status_check CHECK (slack_status IN ('ok', 'broken', 'undecryptable'))",
  );
  const cipher = getFieldCipher();
  let afterId: string | null = null;
  for (;;) {
    const q = knex('workspaces').select('id', 'slack_webhook').whereNotNull('slack_webhook').orderBy('id').limit(BATCH);
    if (afterId !== null) q.andWhere('id', '>', afterId);
    const rows = (await q) as { id: string; slack_webhook: string }[];
    for (const row of rows) {
      let hint: string | null = null;
      try {
        hint = mask(cipher.decrypt(row.slack_webhook, { table: 'workspaces', column: 'slack_webhook', rowId: row.id }));
      } catch {
        // The ciphertext is kept (a restored key may read it again); the workspace shows it cannot be used.
      }
      await knex('workspaces')
        .where({ id: row.id })
        .update(hint === null ? { slack_status: 'undecryptable' } : { slack_webhook_hint: hint });
    }
    if (rows.length < BATCH) break;
    afterId = rows[rows.length - 1]?.id ?? null;
  }

  await knex.raw('ALTER TABLE audit_log DROP CONSTRAINT audit_log_workspace_id_foreign');
  await knex.raw(
    'ALTER TABLE audit_log ADD CONSTRAINT audit_log_workspace_id_foreign FOREIGN KEY (workspace_id) REFERENCES workspaces(id) ON DELETE SET NULL',
  );

  // Older duplicates are spent, newest kept, before the rule can hold.
  await knex.raw(`UPDATE password_reset_tokens t SET used_at = now()
                  WHERE used_at IS NULL AND EXISTS (
                    SELECT 1 FROM password_reset_tokens n
                    WHERE n.user_id = t.user_id AND n.used_at IS NULL AND (n.created_at, n.id) > (t.created_at, t.id))`);
  await knex.raw(
    'CREATE UNIQUE INDEX password_reset_tokens_one_live_per_user ON password_reset_tokens (user_id) WHERE used_at IS NULL',
  );
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP INDEX password_reset_tokens_one_live_per_user');
  await knex.raw('ALTER TABLE audit_log DROP CONSTRAINT audit_log_workspace_id_foreign');
  await knex.raw(
    'ALTER TABLE audit_log ADD CONSTRAINT audit_log_workspace_id_foreign FOREIGN KEY (workspace_id) REFERENCES workspaces(id) ON DELETE CASCADE',
  );
  await knex.raw("UPDATE workspaces SET slack_status = 'broken' WHERE slack_status = 'undecryptable'");
  await knex.raw('ALTER TABLE workspaces DROP CONSTRAINT workspaces_slack_status_check');
  await knex.raw(
    "ALTER TABLE workspaces ADD CONSTRAINT workspaces_slack_status_check CHECK (slack_status IN ('ok', 'broken'))",
  );
  await knex.schema.alterTable('workspaces', (t) => {
    t.dropColumn('slack_webhook_hint');
  });
}
