// dispatch-sms and dispatch-whatsapp: reminder notifications, through the dispatch skeleton with the reminder hooks,
// sent by Twilio on the route the adapter resolver picks (the workspace's account or the platform's), or recorded as
// sent by the sandbox when no credentials exist outside production. A channel-account test send on these queues
// checks the account's Twilio credentials.
import { getDb, type Db } from '@nudge/db';
import { isChannelTestJob, type Job, type MessagingJob } from '@nudge/queue';
import type { WorkerContext } from '../runtime';
import { dispatchJobsOn } from '../dispatch/dispatch-jobs';
import { dispatchNotification, type DispatchOutcome } from '../dispatch/channel.processor';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../dispatch/retry-policy';
import type { TargetPacer } from '../dispatch/target-pacer';
import type { AdapterResolver } from '../dispatch/adapter-resolver';
import { reminderChannel, reminderPacer } from '../reminders/reminder-delivery';
import { runChannelTest, type ChannelTestOutcome } from './channel-test.processor';

export interface TextMessageDeps {
  resolver: AdapterResolver;
  db?: Db;
  pacer?: TargetPacer;
  retry?: RetryPolicy;
}

export function createTextMessageProcessor(channel: 'sms' | 'whatsapp', deps: TextMessageDeps) {
  return (job: Job<MessagingJob>, ctx: WorkerContext): Promise<DispatchOutcome | ChannelTestOutcome> => {
    if (isChannelTestJob(job.data)) return runChannelTest(job.data, ctx);
    const db = deps.db ?? getDb();
    return dispatchNotification(
      job as Job<{ notificationId: string }>,
      reminderChannel(channel, {
        db,
        resolver: deps.resolver,
        publicBaseUrl: ctx.config.publicBaseUrl,
        jobs: dispatchJobsOn(ctx.producers),
      }),
      {
        db,
        pacer: deps.pacer ?? reminderPacer(ctx.producers.connection, channel),
        retry: deps.retry ?? DEFAULT_RETRY_POLICY,
        logger: ctx.logger,
      },
    );
  };
}
