// Slack webhook URLs become encrypted at rest: encrypt, under the active key, every one stored in plaintext before
// this. The table and column are spelled out rather than taken from encrypted-columns.ts so that this migration
// keeps meaning what it meant when it ran.
import type { Knex } from 'knex';
import { getFieldCipher } from '@nudge/crypto';

const BATCH = 500;
const ENCRYPTED = '^v[0-9]+:';

async function rewrite(
  knex: Knex,
  match: '~' | '!~',
  transform: (value: string, rowId: string) => string,
): Promise<void> {
  let afterId: string | null = null;
  for (;;) {
    const q = knex('workspaces')
      .select('id', 'slack_webhook')
      .whereNotNull('slack_webhook')
      .andWhereRaw(`slack_webhook ${match} ?`, [ENCRYPTED])
      .orderBy('id')
      .limit(BATCH);
    if (afterId !== null) q.andWhere('id', '>', afterId);
    const rows = (await q) as { id: string; slack_webhook: string }[];
    for (const row of rows) {
      await knex('workspaces')
        .where({ id: row.id })
        .update({ slack_webhook: transform(row.slack_webhook, row.id) });
    }
    if (rows.length < BATCH) return;
    afterId = rows[rows.length - 1]?.id ?? null;
  }
}

const at = (rowId: string) => ({ table: 'workspaces', column: 'slack_webhook', rowId });

export async function up(knex: Knex): Promise<void> {
  const cipher = getFieldCipher();
  await rewrite(knex, '!~', (url, id) => cipher.encrypt(url, at(id)));
}

export async function down(knex: Knex): Promise<void> {
  const cipher = getFieldCipher();
  // A value that no longer decrypts fails the rollback (DecryptionError) rather than being left half-converted.
  await rewrite(knex, '~', (value, id) => cipher.decrypt(value, at(id)));
}
