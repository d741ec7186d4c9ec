// housekeeping: once a day, the reminders process prunes the auth rows whose purpose has passed (denylisted tokens
// past expiry, used or expired reset tokens and invites, expired refresh tokens) and reports how many went.
import { getDb, pruneExpiredAuthRows, type Db, type PruneCounts } from '@nudge/db';
import type { Job } from '@nudge/queue';
import type { WorkerContext } from '../runtime';

export const HOUSEKEEPING_EVERY_MS = 24 * 3600_000;

export function createHousekeepingProcessor(overrides: { db?: Db; clock?: () => Date } = {}) {
  return async (_job: Job<Record<string, never>>, ctx: WorkerContext): Promise<PruneCounts> => {
    const now = (overrides.clock ?? (() => new Date()))();
    const counts = await pruneExpiredAuthRows(overrides.db ?? getDb(), {
      now,
      batchSize: ctx.config.keyRotationBatchSize,
    });
    ctx.logger.info('housekeeping pruned expired auth rows', { ...counts });
    return counts;
  };
}

export const housekeepingProcessor = createHousekeepingProcessor();
