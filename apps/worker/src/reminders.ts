// The reminders process: the due-reminder scan and one dispatch queue per channel (email carries password resets).
import { QUEUES } from '@nudge/queue';
import { consume, runProcess } from './runtime';
import { emailProcessor } from './processors/email.processor';

runProcess({
  name: 'reminders',
  queues: [consume({ queue: QUEUES.dispatchEmail, concurrency: 10, process: emailProcessor })],
});
