// The billing worker's own jobs as the reconcilers see them, in the ChannelJobs shape, so the one reclaim rule of
// ../dispatch/dispatch-jobs.ts (a live job under the recorded or next id, else a new one under the next id) serves
// stored Stripe events and the owner's paid mails as it serves notifications.
import { QUEUES, type Producers } from '@nudge/queue';
import type { ChannelJobs } from '../dispatch/dispatch-jobs';

/** stripe-events: one job per stored event, id jobIdFor(event id, n). */
export function stripeEventJobsOn(producers: Producers): ChannelJobs {
  const queue = () => producers.queue(QUEUES.stripeEvents);
  return {
    add: (eventId, jobId) => producers.add(QUEUES.stripeEvents, { eventId }, { jobId }),
    addMany: (items) =>
      producers.addBulk(
        QUEUES.stripeEvents,
        items.map((i) => ({ data: { eventId: i.notificationId }, opts: { jobId: i.jobId } })),
      ),
    state: (jobId) => queue().getJobState(jobId),
    remove: async (jobId) => {
      await queue().remove(jobId);
    },
  };
}

/**
 * The owner's paid mail on dispatch-email, keyed by paidNoticeKey(payment id) so its job ids
 * (jobIdFor(key, n)) stand apart from any notification's.
 */
export function paidNoticeJobsOn(producers: Producers): ChannelJobs {
  const queue = () => producers.queue(QUEUES.dispatchEmail);
  const add = (key: string, jobId: string) =>
    producers.add(QUEUES.dispatchEmail, { kind: 'payment-paid', paymentId: key.replace(/-paid$/, '') }, { jobId });
  return {
    add,
    addMany: async (items) => {
      for (const i of items) await add(i.notificationId, i.jobId);
    },
    state: (jobId) => queue().getJobState(jobId),
    remove: async (jobId) => {
      await queue().remove(jobId);
    },
  };
}

/** The base id of a payment's paid-mail jobs (jobIdFor appends the counter). */
export const paidNoticeKey = (paymentId: string): string => `${paymentId}-paid`;
