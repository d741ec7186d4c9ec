// The reminders process: the due-reminder scan (with the reconciler), one dispatch queue per channel, each with its
// own concurrency and rate limit (DISPATCH_<CHANNEL>_*), so a slow provider never holds up another channel (email
// carries password resets and channel-account tests too), the daily housekeeping of expired auth rows, and the
// minutely queueing of reset requests kept while Redis was down, and the dashboard's per-day rollup of reminder
// notifications (DASHBOARD_ROLLUP_INTERVAL_SECONDS). One adapter resolver serves every channel, and its
// cached adapters are closed on shutdown. One outcome batcher records the tries of every dispatch queue (the attempt
// rows and status moves of jobs finishing together share a statement), flushed on shutdown.
// Reminder dispatch jobs carry the dispatch backoff type, which BullMQ resolves through each worker's
// backoffStrategy (Retry-After aware); password resets keep BullMQ's built-in exponential backoff.
import { loadConfigOrExit } from '@nudge/config';
import { createPlatformEmailAdapter } from '@nudge/channels';
import { getDb } from '@nudge/db';
import { QUEUES } from '@nudge/queue';
import { consume, runProcess, type QueueBinding } from '../runtime';
import { createEmailProcessor } from '../processors/email.processor';
import { HOUSEKEEPING_EVERY_MS, housekeepingProcessor } from '../processors/housekeeping.processor';
import { RESET_OUTBOX_EVERY_MS, resetOutboxProcessor } from '../processors/reset-outbox.processor';
import { dashboardRollupProcessor } from '../processors/dashboard-rollup.processor';
import { reminderScanProcessor } from '../processors/reminder-scan.processor';
import { createTextMessageProcessor } from '../processors/text-message.processor';
import { createAdapterResolver } from '../dispatch/adapter-resolver';
import { DEFAULT_RETRY_POLICY, backoffStrategy } from '../dispatch/retry-policy';
import { createOutcomeBatcher } from '../dispatch/outcome-batcher';

const config = loadConfigOrExit();
const email = createPlatformEmailAdapter(config, { timeoutMs: config.emailTimeoutMs });
const resolver = createAdapterResolver({ db: getDb(), config, platformEmail: email });
const outcomes = createOutcomeBatcher(getDb());
const dispatch = { resolver, outcomes };
const settings = {
  backoffStrategy: backoffStrategy({ ...DEFAULT_RETRY_POLICY, baseDelayMs: config.dispatch.backoffBaseMs }),
};

/** A dispatch queue's worker options from config: its concurrency, and its rate limit when one is set. */
function dispatchLimits(channel: 'email' | 'sms' | 'whatsapp'): Pick<QueueBinding, 'concurrency' | 'limiter'> {
  const { concurrency, ratePerSecond } = config.dispatch[channel];
  return { concurrency, ...(ratePerSecond > 0 ? { limiter: { max: ratePerSecond, duration: 1000 } } : {}) };
}

runProcess({
  name: 'reminders',
  queues: [
    consume({ queue: QUEUES.reminderScan, concurrency: 1, process: reminderScanProcessor }),
    consume({
      queue: QUEUES.dispatchEmail,
      ...dispatchLimits('email'),
      process: createEmailProcessor(email, dispatch),
      settings,
    }),
    consume({
      queue: QUEUES.dispatchSms,
      ...dispatchLimits('sms'),
      process: createTextMessageProcessor('sms', dispatch),
      settings,
    }),
    consume({
      queue: QUEUES.dispatchWhatsapp,
      ...dispatchLimits('whatsapp'),
      process: createTextMessageProcessor('whatsapp', dispatch),
      settings,
    }),
    consume({ queue: QUEUES.housekeeping, concurrency: 1, process: housekeepingProcessor }),
    consume({ queue: QUEUES.resetOutbox, concurrency: 1, process: resetOutboxProcessor }),
    consume({ queue: QUEUES.dashboardRollup, concurrency: 1, process: dashboardRollupProcessor }),
  ],
  schedulers: [
    { queue: QUEUES.reminderScan, id: 'reminder-scan', everyMs: config.reminderScanIntervalSeconds * 1000, data: {} },
    { queue: QUEUES.housekeeping, id: 'housekeeping', everyMs: HOUSEKEEPING_EVERY_MS, data: {} },
    { queue: QUEUES.resetOutbox, id: 'password-reset-outbox', everyMs: RESET_OUTBOX_EVERY_MS, data: {} },
    {
      queue: QUEUES.dashboardRollup,
      id: 'dashboard-rollup',
      everyMs: config.dashboardRollupIntervalSeconds * 1000,
      data: {},
    },
  ],
  onClose: async () => {
    await outcomes.close();
    await resolver.close();
    await email.close();
  },
});
