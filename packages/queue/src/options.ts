import type { DefaultJobOptions } from 'bullmq';

/**
 * Every job retries transient failures with exponential backoff and ±50% jitter, and Redis keeps a bounded
 * history: completed jobs for a day (1,000 at most), failed ones for a week (5,000 at most).
 */
export const DEFAULT_JOB_OPTIONS: DefaultJobOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1000, jitter: 0.5 },
  removeOnComplete: { age: 24 * 3600, count: 1000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 5000 },
};

/** BullMQ refuses custom job ids containing ':'; ours are UUIDs, optionally with a `-<n>` retry suffix. */
export function jobIdFor(id: string, attempt = 0): string {
  const base = id.replace(/:/g, '-');
  return attempt > 0 ? `${base}-${attempt}` : base;
}
