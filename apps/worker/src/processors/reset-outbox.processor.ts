// password-reset-outbox: a forgot-password request that arrived while Redis was down was kept in PostgreSQL
// (password_reset_requests) instead of lost. This scheduled job, which itself only runs once Redis is back, queues
// each kept request as the usual dispatch-email job (ids only; the token is minted at send time, as always).
import { deletePasswordResetRequest, getDb, lockPasswordResetRequests, type Db } from '@nudge/db';
import { QUEUES, jobIdFor, type Job } from '@nudge/queue';
import type { WorkerContext } from '../runtime';

export const RESET_OUTBOX_EVERY_MS = 60_000;
const BATCH = 100;

export function createResetOutboxProcessor(overrides: { db?: Db } = {}) {
  return async (_job: Job<Record<string, never>>, ctx: WorkerContext): Promise<{ queued: number }> => {
    const db = overrides.db ?? getDb();
    let queued = 0;
    for (;;) {
      // Each request is deleted in the transaction that locked it, after its job is queued: a failure part-way
      // leaves the rest for the next tick, and a job queued twice for one request keeps one id (BullMQ adds it once).
      const n = await db.transaction(async (trx) => {
        const rows = await lockPasswordResetRequests(trx, BATCH);
        for (const r of rows) {
          await ctx.producers.add(
            QUEUES.dispatchEmail,
            { kind: 'password-reset', userId: r.user_id },
            { jobId: jobIdFor(`reset-request-${r.id}`) },
          );
          await deletePasswordResetRequest(trx, r.id);
        }
        return rows.length;
      });
      queued += n;
      if (n < BATCH) break;
    }
    if (queued) ctx.logger.info('queued the password-reset requests kept while Redis was down', { queued });
    return { queued };
  };
}

export const resetOutboxProcessor = createResetOutboxProcessor();
