// Sends to one target (a Slack webhook, later a sending domain or a phone number) are paced at one per interval
// across every process, through a Redis key per target: `<prefix>:<namespace>:<hash of the target id>`. The key
// names a hash, never the target itself, since a target may be a secret (a webhook URL) or personal data (an
// address). A job that finds its target busy is moved back to delayed for the remaining time (DelayedError, which
// does not count as an attempt) instead of holding a worker slot; worker.rateLimit() is never used, since it would
// pause the whole queue for every target. A job asks once, in one round trip (a Lua script), whether its provider
// account is held (after a 429) and for its target's slot: a dispatch job's pacing is that and the restart after
// its answer, two round trips in all. The asks and restarts of jobs running together go to Redis as one pipeline
// (one write, and one read for Redis) rather than one command each: with sends at a few thousand a second, the
// command-at-a-time writes were a sixth of the dispatching thread's time (bench/dispatch.ts).
import { createHash } from 'node:crypto';
import { appKey, DelayedError, type Job, type Redis } from '@nudge/queue';
import { microBatch } from './micro-batch';

export interface TargetPacer {
  /**
   * Takes the target's slot: 0 when taken, otherwise how many ms until it may be free. With an account, and while
   * that account is held, the slot is not taken and the answer is how long the account is still held.
   */
  acquire(target: string, account?: string): Promise<number>;
  /** Starts the interval again from now, so the next send goes out at least one interval after this answer. */
  restartInterval(target: string): Promise<void>;
  /** Holds every send to the target for `ms` (a provider account's 429 with Retry-After), unless held longer. */
  hold(target: string, ms: number): Promise<void>;
}

export interface PacingOptions {
  /** The key namespace, one per channel or provider (`slack-pace`). */
  namespace: string;
  /** The least time between two sends to one target. */
  intervalMs: number;
}

// KEYS[1]: the target's key; KEYS[2]: the account's, or the target's again when there is none. ARGV[1]: the interval.
// Answers 0 when the slot is taken, else the ms to wait: the account's hold first, then the busy slot's time left
// (1 when it expired meanwhile; the interval when it has no expiry, which no SET here makes, so never forever).
const ACQUIRE_SCRIPT = `
if KEYS[2] ~= KEYS[1] then
  local held = redis.call('PTTL', KEYS[2])
  if held > 0 then return held end
end
if redis.call('SET', KEYS[1], '1', 'PX', ARGV[1], 'NX') then return 0 end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then return ttl end
if ttl == -2 then return 1 end
return tonumber(ARGV[1])`;

type PacingRedis = Redis & { nudgeAcquirePace(target: string, account: string, intervalMs: number): Promise<number> };
type PacingPipeline = ReturnType<Redis['pipeline']> & {
  nudgeAcquirePace(target: string, account: string, intervalMs: number): unknown;
};

/** How long a pipelined command waits for others: against a send's tens of ms, little. */
const PIPELINE_DELAY_MS = 2;

/** Runs one command per item as one pipeline; a command's error fails the batch (micro-batch then runs each alone). */
async function pipelined<I>(redis: Redis, items: readonly I[], add: (p: PacingPipeline, item: I) => void) {
  const p = redis.pipeline() as PacingPipeline;
  for (const item of items) add(p, item);
  const replies = (await p.exec()) ?? [];
  return replies.map(([err, reply]) => {
    if (err) throw err;
    return reply;
  });
}

/** The client with the acquire script defined on it (once per client: EVALSHA, loaded again if Redis lost it). */
function withAcquireScript(redis: Redis): PacingRedis {
  const r = redis as PacingRedis;
  if (typeof r.nudgeAcquirePace !== 'function')
    redis.defineCommand('nudgeAcquirePace', { numberOfKeys: 2, lua: ACQUIRE_SCRIPT });
  return r;
}

export function redisTargetPacer(redis: Redis, { namespace, intervalMs }: PacingOptions): TargetPacer {
  const keyFor = (target: string) => appKey(namespace, createHash('sha256').update(target).digest('hex').slice(0, 32));
  withAcquireScript(redis);
  const acquire = microBatch(
    async (asks: [string, string][]) =>
      (await pipelined(redis, asks, (p, [key, held]) => p.nudgeAcquirePace(key, held, intervalMs))).map(Number),
    { maxDelayMs: PIPELINE_DELAY_MS },
  );
  const restart = microBatch(
    (keys: string[]) => pipelined(redis, keys, (p, key) => p.set(key, '1', 'PX', intervalMs)),
    { maxDelayMs: PIPELINE_DELAY_MS },
  );
  return {
    acquire(target, account) {
      const key = keyFor(target);
      return acquire([key, account === undefined ? key : keyFor(account)]);
    },
    async restartInterval(target) {
      await restart(keyFor(target));
    },
    async hold(target, ms) {
      if (ms <= 0) return;
      const key = keyFor(target);
      if ((await redis.pttl(key)) < ms) await redis.set(key, '1', 'PX', Math.ceil(ms));
    },
  };
}

/**
 * Takes the target's slot for this job, or moves the job back to delayed until the slot may be free and throws
 * the DelayedError BullMQ expects (the processor must let it through). With its provider account, the job also
 * waits while that account is held (after a 429 from it), so one workspace's rate limit delays only that
 * workspace's jobs, never the shared queue.
 */
export async function paceJob(job: Job, pacer: TargetPacer, target: string, account?: string): Promise<void> {
  const waitMs = await pacer.acquire(target, account);
  if (waitMs <= 0) return;
  await job.moveToDelayed(Date.now() + waitMs, job.token);
  throw new DelayedError();
}
