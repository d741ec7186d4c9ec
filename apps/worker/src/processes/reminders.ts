// The reminders process: the due-reminder scan (with the reconciler), one dispatch queue per channel (email carries
// password resets and channel-account tests too; SMS and WhatsApp go to the sandbox until the dispatch issue), the
// daily housekeeping of expired auth rows, and the minutely queueing of reset requests kept while Redis was down.
// Reminder dispatch jobs carry the dispatch backoff type, which BullMQ resolves through each worker's
// backoffStrategy (Retry-After aware); password resets keep BullMQ's built-in exponential backoff.
import { loadConfigOrExit } from '@nudge/config';
import { createPlatformEmailAdapter } from '@nudge/channels';
import { QUEUES } from '@nudge/queue';
import { consume, runProcess } from '../runtime';
import { createEmailProcessor } from '../processors/email.processor';
import { HOUSEKEEPING_EVERY_MS, housekeepingProcessor } from '../processors/housekeeping.processor';
import { RESET_OUTBOX_EVERY_MS, resetOutboxProcessor } from '../processors/reset-outbox.processor';
import { reminderScanProcessor } from '../processors/reminder-scan.processor';
import { createSandboxMessageProcessor } from '../processors/sandbox-message.processor';
import { backoffStrategy } from '../dispatch/retry-policy';

const config = loadConfigOrExit();
const email = createPlatformEmailAdapter(config);
const settings = { backoffStrategy: backoffStrategy() };

runProcess({
  name: 'reminders',
  queues: [
    consume({ queue: QUEUES.reminderScan, concurrency: 1, process: reminderScanProcessor }),
    consume({ queue: QUEUES.dispatchEmail, concurrency: 10, process: createEmailProcessor(email), settings }),
    consume({ queue: QUEUES.dispatchSms, concurrency: 10, process: createSandboxMessageProcessor('sms'), settings }),
    consume({
      queue: QUEUES.dispatchWhatsapp,
      concurrency: 10,
      process: createSandboxMessageProcessor('whatsapp'),
      settings,
    }),
    consume({ queue: QUEUES.housekeeping, concurrency: 1, process: housekeepingProcessor }),
    consume({ queue: QUEUES.resetOutbox, concurrency: 1, process: resetOutboxProcessor }),
  ],
  schedulers: [
    { queue: QUEUES.reminderScan, id: 'reminder-scan', everyMs: config.reminderScanIntervalSeconds * 1000, data: {} },
    { queue: QUEUES.housekeeping, id: 'housekeeping', everyMs: HOUSEKEEPING_EVERY_MS, data: {} },
    { queue: QUEUES.resetOutbox, id: 'password-reset-outbox', everyMs: RESET_OUTBOX_EVERY_MS, data: {} },
  ],
  onClose: () => email.close(),
});
