// Pruning of rows whose only purpose has passed: denylisted access tokens past expiry, spent or expired reset
// tokens and invites, expired refresh tokens. Deleted in small batches, so a large backlog never holds long locks or
// one huge transaction. Revoked refresh tokens stay until they expire: reuse detection still needs to recognise them.
import type { Knex } from 'knex';

export interface PruneCounts {
  revoked_tokens: number;
  password_reset_tokens: number;
  workspace_invites: number;
  refresh_tokens: number;
}

type PruneRule = (q: Knex.QueryBuilder, now: Date) => Knex.QueryBuilder;

const RULES: Record<keyof PruneCounts, PruneRule> = {
  revoked_tokens: (q, now) => q.where('expires_at', '<', now),
  password_reset_tokens: (q, now) => q.whereRaw('(used_at IS NOT NULL OR expires_at < ?)', [now]),
  workspace_invites: (q, now) => q.whereRaw('(used_at IS NOT NULL OR expires_at < ?)', [now]),
  refresh_tokens: (q, now) => q.where('expires_at', '<', now),
};

async function pruneTable(db: Knex, table: keyof PruneCounts, now: Date, batchSize: number): Promise<number> {
  let total = 0;
  for (;;) {
    const batch = RULES[table](db(table).select('ctid'), now).limit(batchSize);
    const deleted = await db(table).whereRaw('ctid IN (?)', [batch]).delete();
    total += deleted;
    if (deleted < batchSize) return total;
  }
}

/** Deletes what has expired or been used as of `now`, table by table, and says how many rows went from each. */
export async function pruneExpiredAuthRows(
  db: Knex,
  { now = new Date(), batchSize = 1000 } = {},
): Promise<PruneCounts> {
  const counts: PruneCounts = { revoked_tokens: 0, password_reset_tokens: 0, workspace_invites: 0, refresh_tokens: 0 };
  for (const table of Object.keys(RULES) as (keyof PruneCounts)[])
    counts[table] = await pruneTable(db, table, now, batchSize);
  return counts;
}
