// The reminders process: the due-reminder scan, one dispatch queue per channel (email carries password resets), the
// daily housekeeping of expired auth rows, and the minutely queueing of reset requests kept while Redis was down.
import { loadConfigOrExit } from '@nudge/config';
import { createPlatformEmailAdapter } from '@nudge/channels';
import { QUEUES } from '@nudge/queue';
import { consume, runProcess } from '../runtime';
import { createEmailProcessor } from '../processors/email.processor';
import { HOUSEKEEPING_EVERY_MS, housekeepingProcessor } from '../processors/housekeeping.processor';
import { RESET_OUTBOX_EVERY_MS, resetOutboxProcessor } from '../processors/reset-outbox.processor';
import { messagingProcessor } from '../processors/messaging.processor';

const email = createPlatformEmailAdapter(loadConfigOrExit());

runProcess({
  name: 'reminders',
  queues: [
    consume({ queue: QUEUES.dispatchEmail, concurrency: 10, process: createEmailProcessor(email) }),
    consume({ queue: QUEUES.dispatchSms, concurrency: 10, process: messagingProcessor }),
    consume({ queue: QUEUES.dispatchWhatsapp, concurrency: 10, process: messagingProcessor }),
    consume({ queue: QUEUES.housekeeping, concurrency: 1, process: housekeepingProcessor }),
    consume({ queue: QUEUES.resetOutbox, concurrency: 1, process: resetOutboxProcessor }),
  ],
  schedulers: [
    { queue: QUEUES.housekeeping, id: 'housekeeping', everyMs: HOUSEKEEPING_EVERY_MS, data: {} },
    { queue: QUEUES.resetOutbox, id: 'password-reset-outbox', everyMs: RESET_OUTBOX_EVERY_MS, data: {} },
  ],
  onClose: () => email.close(),
});
