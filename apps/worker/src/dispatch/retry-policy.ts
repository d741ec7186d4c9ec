// How every dispatch queue retries a send, whatever the channel, from the provider error taxonomy of
// @nudge/channels: a permanent error is never retried; a transient one waits its Retry-After when the provider gave
// one, otherwise an exponential backoff with jitter, capped. BullMQ computes the delay through backoffStrategy()
// with the error the processor threw; the processor asks retryVerdict() first and fails the job itself after the
// last try (or when Retry-After asks for too long), so no delay is ever computed after the last try.
import type { ProviderError } from '@nudge/channels';
import { DISPATCH_ATTEMPTS } from '@nudge/queue';

// The job options live with the producers in @nudge/queue (the API adds dispatch jobs too).
export { DISPATCH_BACKOFF_TYPE, dispatchJobOptions } from '@nudge/queue';

export interface RetryPolicy {
  /** Tries in all, the first included (5). */
  attempts: number;
  /** The first retry's delay before jitter, doubled for each later one (1 s). */
  baseDelayMs: number;
  /** The ± share of jitter applied to each delay (0.5). */
  jitter: number;
  /** No computed delay exceeds this (5 minutes). */
  maxDelayMs: number;
  /** A Retry-After longer than this fails the send instead of waiting (15 minutes). */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: DISPATCH_ATTEMPTS,
  baseDelayMs: 1000,
  jitter: 0.5,
  maxDelayMs: 5 * 60_000,
  maxRetryAfterMs: 15 * 60_000,
};

/**
 * The delay before retry number `attemptsMade` (1 for the first retry): the error's Retry-After when it has one,
 * otherwise baseDelayMs × 2^(attemptsMade − 1) with ±jitter, capped at maxDelayMs.
 */
export function retryDelay(
  attemptsMade: number,
  err: unknown,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  random: () => number = Math.random,
): number {
  const retryAfterMs = (err as { retryAfterMs?: unknown } | undefined)?.retryAfterMs;
  if (typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs >= 0)
    return Math.round(retryAfterMs);
  const exponential = policy.baseDelayMs * 2 ** Math.max(0, attemptsMade - 1);
  const jittered = exponential * (1 - policy.jitter + 2 * policy.jitter * random());
  return Math.round(Math.min(policy.maxDelayMs, jittered));
}

/** A BullMQ worker `settings.backoffStrategy` for a dispatch queue. */
export function backoffStrategy(policy: RetryPolicy = DEFAULT_RETRY_POLICY) {
  return (attemptsMade: number, _type?: string, err?: Error): number => retryDelay(attemptsMade, err, policy);
}

export type RetryVerdict = { retry: true } | { retry: false; reason: string; permanent: boolean };

/**
 * Whether try number `attempt` of `attempts` is followed by another after this provider error. No retry for a
 * permanent error, after the last try, or when Retry-After asks for more than maxRetryAfterMs; the reason is what
 * the notification records.
 */
export function retryVerdict(
  err: ProviderError,
  attempt: number,
  attempts: number,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): RetryVerdict {
  if (!err.transient) return { retry: false, reason: err.code, permanent: true };
  if (err.retryAfterMs !== undefined && err.retryAfterMs > policy.maxRetryAfterMs) {
    const asked = Math.round(err.retryAfterMs / 1000);
    return {
      retry: false,
      reason: `${err.code}: Retry-After ${asked} s is over the ${Math.round(policy.maxRetryAfterMs / 1000)} s limit`,
      permanent: false,
    };
  }
  if (attempt >= attempts) return { retry: false, reason: err.code, permanent: false };
  return { retry: true };
}
