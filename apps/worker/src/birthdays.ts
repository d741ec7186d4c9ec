// The birthdays process: the birthday scheduler tick and Slack posts.
import { getConfig } from '@nudge/config';
import { QUEUES } from '@nudge/queue';
import { consume, runProcess } from './runtime';
import { birthdayScanProcessor } from './processors/birthday-scan.processor';
import { slackPostProcessor } from './processors/slack-post.processor';

runProcess({
  name: 'birthdays',
  queues: [
    consume({ queue: QUEUES.birthdayScan, concurrency: 1, process: birthdayScanProcessor }),
    consume({ queue: QUEUES.dispatchSlack, concurrency: 10, process: slackPostProcessor }),
  ],
  schedulers: [{ queue: QUEUES.birthdayScan, id: 'birthday-scan', everyMs: getConfig().birthdayScanIntervalSeconds * 1000, data: {} }],
});
