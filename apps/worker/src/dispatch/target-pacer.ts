// Sends to one target (a Slack webhook, later a sending domain or a phone number) are paced at one per interval
// across every process, through a Redis key per target: `<prefix>:<namespace>:<hash of the target id>`. The key
// names a hash, never the target itself, since a target may be a secret (a webhook URL) or personal data (an
// address). A job that finds its target busy is moved back to delayed for the remaining time (DelayedError, which
// does not count as an attempt) instead of holding a worker slot; worker.rateLimit() is never used, since it would
// pause the whole queue for every target.
import { createHash } from 'node:crypto';
import { appKey, DelayedError, type Job, type Redis } from '@nudge/queue';

export interface TargetPacer {
  /** Takes the target's slot: 0 when taken, otherwise how many ms until it may be free. */
  acquire(target: string): Promise<number>;
  /** Starts the interval again from now, so the next send goes out at least one interval after this answer. */
  restartInterval(target: string): Promise<void>;
  /** Holds every send to the target for `ms` (a provider account's 429 with Retry-After), unless held longer. */
  hold(target: string, ms: number): Promise<void>;
  /** How many ms the target is still held (0: free), without taking any slot. */
  heldFor(target: string): Promise<number>;
}

export interface PacingOptions {
  /** The key namespace, one per channel or provider (`slack-pace`). */
  namespace: string;
  /** The least time between two sends to one target. */
  intervalMs: number;
}

export function redisTargetPacer(redis: Redis, { namespace, intervalMs }: PacingOptions): TargetPacer {
  const keyFor = (target: string) => appKey(namespace, createHash('sha256').update(target).digest('hex').slice(0, 32));
  return {
    async acquire(target) {
      const key = keyFor(target);
      if ((await redis.set(key, '1', 'PX', intervalMs, 'NX')) === 'OK') return 0;
      const ttl = await redis.pttl(key);
      // -2: it expired between the two commands; -1 cannot happen (every SET has PX), but never wait forever.
      return ttl > 0 ? ttl : ttl === -2 ? 1 : intervalMs;
    },
    async restartInterval(target) {
      await redis.set(keyFor(target), '1', 'PX', intervalMs);
    },
    async hold(target, ms) {
      if (ms <= 0) return;
      const key = keyFor(target);
      if ((await redis.pttl(key)) < ms) await redis.set(key, '1', 'PX', Math.ceil(ms));
    },
    async heldFor(target) {
      return Math.max(0, await redis.pttl(keyFor(target)));
    },
  };
}

/**
 * Moves the job back to delayed while its provider account is held (after a 429 from that account), so one
 * workspace's rate limit delays only that workspace's jobs, never the shared queue.
 */
export async function waitForAccount(job: Job, pacer: TargetPacer, account: string): Promise<void> {
  const waitMs = await pacer.heldFor(account);
  if (waitMs <= 0) return;
  await job.moveToDelayed(Date.now() + waitMs, job.token);
  throw new DelayedError();
}

/**
 * Takes the target's slot for this job, or moves the job back to delayed until the slot may be free and throws
 * the DelayedError BullMQ expects (the processor must let it through).
 */
export async function paceJob(job: Job, pacer: TargetPacer, target: string): Promise<void> {
  const waitMs = await pacer.acquire(target);
  if (waitMs <= 0) return;
  await job.moveToDelayed(Date.now() + waitMs, job.token);
  throw new DelayedError();
}
