// How Slack posts are retried. BullMQ calls the strategy with the error the processor threw, which lets a 429's
// Retry-After decide the delay; the processor itself fails the job after the last attempt (or when Retry-After
// asks for too long), so no delay is ever computed after the last try.
import type { JobsOptions } from 'bullmq';

export const SLACK_BACKOFF_TYPE = 'slack';

export interface SlackRetryPolicy {
  /** Tries in all, the first included (5). */
  attempts: number;
  /** The first retry's delay before jitter, doubled for each later one (1 s). */
  baseDelayMs: number;
  /** The ± share of jitter applied to each delay (0.5). */
  jitter: number;
  /** No computed delay exceeds this (5 minutes). */
  maxDelayMs: number;
  /** A Retry-After longer than this fails the post instead of waiting (15 minutes). */
  maxRetryAfterMs: number;
}

export const DEFAULT_SLACK_RETRY: SlackRetryPolicy = {
  attempts: 5,
  baseDelayMs: 1000,
  jitter: 0.5,
  maxDelayMs: 5 * 60_000,
  maxRetryAfterMs: 15 * 60_000,
};

/** The options every dispatch-slack job is added with; the id is the notification's (see jobIdFor). */
export function slackJobOptions(jobId: string, policy: Pick<SlackRetryPolicy, 'attempts'> = DEFAULT_SLACK_RETRY): JobsOptions {
  return { jobId, attempts: policy.attempts, backoff: { type: SLACK_BACKOFF_TYPE } };
}

/**
 * The delay before retry number `attemptsMade` (1 for the first retry): the error's Retry-After when it has one,
 * otherwise baseDelayMs × 2^(attemptsMade − 1) with ±jitter, capped at maxDelayMs.
 */
export function slackRetryDelay(attemptsMade: number, err: unknown, policy: SlackRetryPolicy = DEFAULT_SLACK_RETRY, random: () => number = Math.random): number {
  const retryAfterMs = (err as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  if (typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) return Math.round(retryAfterMs);
  const exponential = policy.baseDelayMs * 2 ** Math.max(0, attemptsMade - 1);
  const jittered = exponential * (1 - policy.jitter + 2 * policy.jitter * random());
  return Math.round(Math.min(policy.maxDelayMs, jittered));
}

/** A BullMQ worker `settings.backoffStrategy` for the dispatch-slack queue. */
export function slackBackoffStrategy(policy: SlackRetryPolicy = DEFAULT_SLACK_RETRY) {
  return (attemptsMade: number, _type?: string, err?: Error): number => slackRetryDelay(attemptsMade, err, policy);
}
