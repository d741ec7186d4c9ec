// The reminders process: the due-reminder scan and one dispatch queue per channel (email carries password resets).
import { loadConfigOrExit } from '@nudge/config';
import { createPlatformEmailAdapter } from '@nudge/channels';
import { QUEUES } from '@nudge/queue';
import { consume, runProcess } from '../runtime';
import { createEmailProcessor } from '../processors/email.processor';

const email = createPlatformEmailAdapter(loadConfigOrExit());

runProcess({
  name: 'reminders',
  queues: [consume({ queue: QUEUES.dispatchEmail, concurrency: 10, process: createEmailProcessor(email) })],
  onClose: () => email.close(),
});
