// dispatch-sms and dispatch-whatsapp: reminder notifications, through the dispatch skeleton with the reminder hooks,
// sent by Twilio on the route the adapter resolver picks (the workspace's account or the platform's), or recorded as
// sent by the sandbox when no credentials exist outside production. A channel-account test send on these queues
// checks the account's Twilio credentials.
import { isChannelTestJob, type Job, type MessagingJob } from '@nudge/queue';
import type { WorkerContext } from '../runtime';
import type { DispatchOutcome } from '../dispatch/channel.processor';
import { reminderDispatcher, type ReminderDispatchDeps } from '../reminders/reminder-delivery';
import { runChannelTest, type ChannelTestOutcome } from './channel-test.processor';

export type TextMessageDeps = ReminderDispatchDeps;

export function createTextMessageProcessor(channel: 'sms' | 'whatsapp', deps: TextMessageDeps) {
  const reminders = reminderDispatcher(channel, deps);
  return (job: Job<MessagingJob>, ctx: WorkerContext): Promise<DispatchOutcome | ChannelTestOutcome> => {
    if (isChannelTestJob(job.data)) return runChannelTest(job.data, ctx);
    return reminders(job as Job<{ notificationId: string }>, ctx);
  };
}
