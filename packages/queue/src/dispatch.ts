// Adding a notification's dispatch job, shared by every producer of one (the worker's scans and reconcilers, the
// API's send-now and resend), so that the queue a channel uses, the payload and the job options exist once. The job
// carries the notification id only; its id is jobIdFor(notification id, n), a fresh n for every add, because BullMQ
// silently ignores an add whose id a finished job still holds.
import type { JobsOptions } from 'bullmq';
import { getConfig } from '@nudge/config';
import { QUEUES } from './names';
import type { Producers } from './producers';

export type DeliveryChannel = 'slack' | 'email' | 'sms' | 'whatsapp';

/** The backoff type of every dispatch job; BullMQ hands it to the consuming worker's backoffStrategy. */
export const DISPATCH_BACKOFF_TYPE = 'dispatch';

/** Tries of a dispatch job in all, the first included, by default (DISPATCH_MAX_ATTEMPTS overrides it). */
export const DISPATCH_ATTEMPTS = 5;

/** Tries of a dispatch job as configured (DISPATCH_MAX_ATTEMPTS). */
export function dispatchAttempts(): number {
  return getConfig().dispatch.maxAttempts;
}

export const DISPATCH_QUEUES = {
  slack: QUEUES.dispatchSlack,
  email: QUEUES.dispatchEmail,
  sms: QUEUES.dispatchSms,
  whatsapp: QUEUES.dispatchWhatsapp,
} as const satisfies Record<DeliveryChannel, string>;

/** The options a dispatch job is added with; `delayMs` holds it back until its occurrence. */
export function dispatchJobOptions(
  jobId: string,
  policy: { attempts: number } = { attempts: dispatchAttempts() },
  delayMs = 0,
): JobsOptions {
  return {
    jobId,
    attempts: policy.attempts,
    backoff: { type: DISPATCH_BACKOFF_TYPE },
    ...(delayMs > 0 ? { delay: Math.round(delayMs) } : {}),
  };
}

/** Adds the dispatch job of a notification on its channel's queue. */
export async function addDispatchJob(
  producers: Producers,
  channel: DeliveryChannel,
  notificationId: string,
  jobId: string,
  delayMs = 0,
): Promise<void> {
  const opts = dispatchJobOptions(jobId, undefined, delayMs);
  // dispatch-email also carries password resets, so its payload names its kind.
  if (channel === 'email') await producers.add(QUEUES.dispatchEmail, { kind: 'notification', notificationId }, opts);
  else await producers.add(DISPATCH_QUEUES[channel], { notificationId }, opts);
}

/** Adds the dispatch jobs of many notifications on one channel's queue in one round trip. */
export async function addDispatchJobs(
  producers: Producers,
  channel: DeliveryChannel,
  items: readonly { notificationId: string; jobId: string; delayMs?: number }[],
): Promise<void> {
  const attempts = { attempts: dispatchAttempts() };
  if (channel === 'email')
    await producers.addBulk(
      QUEUES.dispatchEmail,
      items.map((i) => ({
        data: { kind: 'notification' as const, notificationId: i.notificationId },
        opts: dispatchJobOptions(i.jobId, attempts, i.delayMs),
      })),
    );
  else
    await producers.addBulk(
      DISPATCH_QUEUES[channel],
      items.map((i) => ({
        data: { notificationId: i.notificationId },
        opts: dispatchJobOptions(i.jobId, attempts, i.delayMs),
      })),
    );
}
