// `npm run keys:rotate [-- --max-batches N]`: re-encrypts every encrypted column under ENCRYPTION_ACTIVE_KEY, in
// batches of KEY_ROTATION_BATCH_SIZE. It prints a line per batch, then, last, the JSON summary
// {"rows", "rows_per_second", "done"}. Safe to stop and rerun: a rerun continues, and a finished one finds 0 rows.
import { parseArgs } from 'node:util';
import { loadConfigOrExit } from '@nudge/config';
import { getFieldCipher } from '@nudge/crypto';
import { getDb, closeDb } from '../connection';
import { rotateKeys } from '../key-rotation';

const config = loadConfigOrExit();
const { values } = parseArgs({ options: { 'max-batches': { type: 'string' } } });
const maxBatchesArg = values['max-batches'];
const maxBatches = maxBatchesArg === undefined ? undefined : Number(maxBatchesArg);
if (maxBatches !== undefined && !(Number.isInteger(maxBatches) && maxBatches > 0)) {
  process.stderr.write('--max-batches must be a positive integer\n');
  process.exit(64);
}

try {
  const result = await rotateKeys({
    db: getDb(),
    cipher: getFieldCipher(),
    batchSize: config.keyRotationBatchSize,
    maxBatches,
    onBatch: (b) =>
      process.stdout.write(`${b.table}.${b.column}: re-encrypted ${b.rows} rows (${b.totalRows} in all)\n`),
  });
  process.stdout.write(
    `${JSON.stringify({ rows: result.rows, rows_per_second: result.rowsPerSecond, done: result.done })}\n`,
  );
} finally {
  await closeDb();
}
