// dispatch-sms and dispatch-whatsapp: channel-account tests for now. Reminder notifications on these queues arrive
// with the scan (sent to the sandbox) and the dispatch issue (Twilio); until then a notification job is refused.
import { UnrecoverableError, isChannelTestJob, type Job, type MessagingJob } from '@nudge/queue';
import type { WorkerContext } from '../runtime';
import { runChannelTest } from './channel-test.processor';

export async function messagingProcessor(job: Job<MessagingJob>, ctx: WorkerContext): Promise<unknown> {
  if (isChannelTestJob(job.data)) return runChannelTest(job.data, ctx);
  throw new UnrecoverableError('notifications on this channel are not dispatched yet');
}
