// Re-encrypts every registered encrypted column under the active key (`npm run keys:rotate`). It only ever selects
// values not yet under the active key, so it is idempotent and can be stopped and rerun at any point: a rerun picks
// up where the last one stopped. Each batch is one transaction whose rows are locked with SKIP LOCKED, so a
// concurrent writer (which encrypts with the active key anyway) or a second rotation never waits on it.
import type { Knex } from 'knex';
import type { FieldCipher } from '@nudge/crypto';
import { ENCRYPTED_COLUMNS, fieldContext, type EncryptedColumn } from './encrypted-columns';

export interface RotationBatch {
  table: string;
  column: string;
  /** Rows re-encrypted by this batch. */
  rows: number;
  /** Rows re-encrypted so far by this run, this batch included. */
  totalRows: number;
}

export interface RotateKeysOptions {
  db: Knex;
  cipher: FieldCipher;
  batchSize: number;
  /** Stop after this many batches (across all columns); the next run resumes. */
  maxBatches?: number;
  onBatch?: (batch: RotationBatch) => void;
}

export interface RotationResult {
  rows: number;
  rowsPerSecond: number;
  /** False when maxBatches stopped the run with values still under an old key. */
  done: boolean;
}

// Bound parameters per UPDATE stay far below PostgreSQL's 65535 whatever the batch size.
const UPDATE_CHUNK = 1000;

function staleValues(q: Knex.QueryBuilder, col: EncryptedColumn, cipher: FieldCipher): Knex.QueryBuilder {
  return q.whereNotNull(col.column).andWhere(col.column, 'not like', `${cipher.activeKey}:%`);
}

async function rotateBatch(
  db: Knex,
  cipher: FieldCipher,
  col: EncryptedColumn,
  batchSize: number,
  afterId: string | null,
): Promise<{ rows: number; lastId: string | null }> {
  return db.transaction(async (trx) => {
    const q = staleValues(trx(col.table).select({ id: col.idColumn, value: col.column }), col, cipher)
      .orderBy(col.idColumn)
      .limit(batchSize)
      .forUpdate()
      .skipLocked();
    if (afterId !== null) q.andWhere(col.idColumn, '>', afterId);
    const rows = (await q) as { id: string; value: string }[];
    // A value that does not decrypt (tampered, or under a key no longer in the ring) aborts the run with the row
    // named in the error: it needs a human, and skipping it would report a rotation that did not happen.
    const updates = rows.map((r) => {
      const ctx = fieldContext(col, r.id);
      return { id: r.id, value: cipher.encrypt(cipher.decrypt(r.value, ctx), ctx) };
    });
    for (let i = 0; i < updates.length; i += UPDATE_CHUNK) {
      const chunk = updates.slice(i, i + UPDATE_CHUNK);
      // One statement per chunk: CASE keeps the id parameters typed by the id column itself, whatever its type.
      const cases = chunk.map(() => 'WHEN ? THEN ?').join(' ');
      await trx(col.table)
        .whereIn(
          col.idColumn,
          chunk.map((u) => u.id),
        )
        .update({
          [col.column]: trx.raw(`CASE ?? ${cases} END`, [col.idColumn, ...chunk.flatMap((u) => [u.id, u.value])]),
        });
    }
    return { rows: rows.length, lastId: rows.at(-1)?.id ?? null };
  });
}

async function anyStale(db: Knex, cipher: FieldCipher, columns: readonly EncryptedColumn[]): Promise<boolean> {
  for (const col of columns) {
    if (await staleValues(db(col.table).first(col.idColumn), col, cipher)) return true;
  }
  return false;
}

export async function rotateKeys({
  db,
  cipher,
  batchSize,
  maxBatches,
  onBatch,
}: RotateKeysOptions): Promise<RotationResult> {
  const started = performance.now();
  let rows = 0;
  let batches = 0;
  const result = (done: boolean): RotationResult => {
    const seconds = (performance.now() - started) / 1000;
    return { rows, rowsPerSecond: seconds > 0 ? Math.round((rows / seconds) * 10) / 10 : 0, done };
  };

  for (const [index, col] of ENCRYPTED_COLUMNS.entries()) {
    // Keyset pagination: rows skipped because another transaction holds them are not selected again in this run.
    let afterId: string | null = null;
    for (;;) {
      if (maxBatches !== undefined && batches >= maxBatches)
        return result(!(await anyStale(db, cipher, ENCRYPTED_COLUMNS.slice(index))));
      const batch = await rotateBatch(db, cipher, col, batchSize, afterId);
      batches += 1;
      rows += batch.rows;
      onBatch?.({ table: col.table, column: col.column, rows: batch.rows, totalRows: rows });
      if (batch.rows < batchSize || batch.lastId === null) break;
      afterId = batch.lastId;
    }
  }
  return result(true);
}
