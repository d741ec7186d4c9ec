// Runs on a piscina worker thread. Plain JavaScript on purpose: a .ts worker would not run from dist/, and the test
// loader (tsx) does not carry over into threads. The sync bcryptjs calls are right here: this thread does nothing else,
// and the async variants only add scheduling overhead.
import { threadId } from 'node:worker_threads';
import bcrypt from 'bcryptjs';

/**
 * @param {{ op: 'hash', password: string, cost: number } | { op: 'verify', password: string, hash: string }} task
 * @returns {{ result: string | boolean, threadId: number }}
 */
export default function run(task) {
  if (task.op === 'hash') return { result: bcrypt.hashSync(task.password, task.cost), threadId };
  if (task.op === 'verify') return { result: bcrypt.compareSync(task.password, task.hash), threadId };
  throw new Error(`Unknown hash task ${String(task.op)}`);
}
