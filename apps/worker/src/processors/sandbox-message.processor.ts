// dispatch-sms and dispatch-whatsapp until the dispatch issue brings Twilio: reminder notifications go through the
// dispatch skeleton with the reminder hooks (rechecks, rendering at send time) and are recorded `sent` by `sandbox`;
// nothing leaves the machine. A channel-account test send on these queues checks the account's Twilio credentials.
import { getDb, type Db } from '@nudge/db';
import { isChannelTestJob, type Job, type MessagingJob } from '@nudge/queue';
import type { WorkerContext } from '../runtime';
import { dispatchNotification, type DispatchOutcome } from '../dispatch/channel.processor';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../dispatch/retry-policy';
import type { TargetPacer } from '../dispatch/target-pacer';
import { reminderChannel, reminderPacer, sandboxSender } from '../reminders/reminder-delivery';
import { runChannelTest, type ChannelTestOutcome } from './channel-test.processor';

export interface SandboxMessageDeps {
  db: Db;
  pacer: TargetPacer;
  retry: RetryPolicy;
}

export function createSandboxMessageProcessor(
  channel: 'sms' | 'whatsapp',
  overrides: Partial<SandboxMessageDeps> = {},
) {
  return (job: Job<MessagingJob>, ctx: WorkerContext): Promise<DispatchOutcome | ChannelTestOutcome> => {
    if (isChannelTestJob(job.data)) return runChannelTest(job.data, ctx);
    const db = overrides.db ?? getDb();
    return dispatchNotification(
      job as Job<{ notificationId: string }>,
      reminderChannel(channel, { db, sender: sandboxSender }),
      {
        db,
        pacer: overrides.pacer ?? reminderPacer(ctx.producers.connection, channel),
        retry: overrides.retry ?? DEFAULT_RETRY_POLICY,
        logger: ctx.logger,
      },
    );
  };
}
