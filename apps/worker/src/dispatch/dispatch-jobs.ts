// Dispatch jobs as the scans and reconcilers see them: add one, ask a job's state, remove a finished one; and the one
// reclaim rule every reconciler applies (birthday posts, reminder notifications). BullMQ silently ignores an add
// whose id any job still holds, finished ones included, so each add uses the next id, jobIdFor(notification, n),
// and n is recorded on the row (enqueue_count).
import {
  DISPATCH_QUEUES,
  addDispatchJob,
  addDispatchJobs,
  jobIdFor,
  type DeliveryChannel,
  type Producers,
} from '@nudge/queue';

export type DispatchJobState =
  'completed' | 'failed' | 'active' | 'delayed' | 'prioritized' | 'waiting' | 'waiting-children' | 'unknown';

/** One channel's dispatch queue. */
export interface ChannelJobs {
  add(notificationId: string, jobId: string, delayMs?: number): Promise<void>;
  /** Adds many in one round trip (addBulk). */
  addMany(items: readonly { notificationId: string; jobId: string; delayMs?: number }[]): Promise<void>;
  state(jobId: string): Promise<DispatchJobState>;
  remove(jobId: string): Promise<void>;
}

export function channelJobsOn(producers: Producers, channel: DeliveryChannel): ChannelJobs {
  const queue = () => producers.queue(DISPATCH_QUEUES[channel]);
  return {
    add: (notificationId, jobId, delayMs = 0) => addDispatchJob(producers, channel, notificationId, jobId, delayMs),
    addMany: (items) => addDispatchJobs(producers, channel, items),
    state: (jobId) => queue().getJobState(jobId),
    remove: async (jobId) => {
      await queue().remove(jobId);
    },
  };
}

/** Every channel's dispatch queue, as the reminder scan needs them. */
export type DispatchJobs = (channel: DeliveryChannel) => ChannelJobs;

export function dispatchJobsOn(producers: Producers): DispatchJobs {
  const cache = new Map<DeliveryChannel, ChannelJobs>();
  return (channel) => {
    let jobs = cache.get(channel);
    if (!jobs) cache.set(channel, (jobs = channelJobsOn(producers, channel)));
    return jobs;
  };
}

const LIVE_STATES: ReadonlySet<DispatchJobState> = new Set([
  'active',
  'delayed',
  'prioritized',
  'waiting',
  'waiting-children',
]);

export type ReclaimOutcome =
  /** A job under a recorded or just-added id will still run; `enqueueCount` says how many ids are taken. */
  | { outcome: 'live'; enqueueCount: number }
  /** No job will run it; a new one was added under jobIdFor(id, enqueueCount - 1). */
  | { outcome: 'enqueued'; enqueueCount: number; jobId: string }
  /** No job will run it, and the caller's `beforeAdd` decided none should (a birthday whose day is over). */
  | { outcome: 'dropped'; enqueueCount: number };

/**
 * The reclaim rule: given a notification whose row says `enqueueCount` jobs were added, find whether one is still
 * live (the last recorded id, or the next id when an add happened just before a crash and was never recorded);
 * otherwise add one under the next id, removing a finished job that still holds it. `beforeAdd` may veto the add.
 */
export async function reclaimDispatchJob(
  jobs: ChannelJobs,
  notificationId: string,
  enqueueCount: number,
  opts: { delayMs?: number; beforeAdd?: () => Promise<boolean> } = {},
): Promise<ReclaimOutcome> {
  if (enqueueCount > 0 && LIVE_STATES.has(await jobs.state(jobIdFor(notificationId, enqueueCount - 1))))
    return { outcome: 'live', enqueueCount };
  const nextId = jobIdFor(notificationId, enqueueCount);
  const nextState = await jobs.state(nextId);
  if (LIVE_STATES.has(nextState)) return { outcome: 'live', enqueueCount: enqueueCount + 1 };
  if (opts.beforeAdd && !(await opts.beforeAdd())) return { outcome: 'dropped', enqueueCount };
  if (nextState !== 'unknown') await jobs.remove(nextId);
  await jobs.add(notificationId, nextId, opts.delayMs);
  return { outcome: 'enqueued', enqueueCount: enqueueCount + 1, jobId: nextId };
}
