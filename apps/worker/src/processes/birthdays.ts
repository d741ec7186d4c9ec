// The birthdays process: the birthday scheduler tick and Slack posts. dispatch-slack jobs carry their own backoff
// type, which BullMQ resolves through this worker's backoffStrategy (the dispatch retry policy, Retry-After aware).
import { loadConfigOrExit } from '@nudge/config';
import { QUEUES } from '@nudge/queue';
import { consume, runProcess } from '../runtime';
import { birthdayScanProcessor } from '../processors/birthday-scan.processor';
import { slackPostProcessor } from '../processors/slack-post.processor';
import { backoffStrategy } from '../dispatch/retry-policy';

const config = loadConfigOrExit();

runProcess({
  name: 'birthdays',
  queues: [
    consume({ queue: QUEUES.birthdayScan, concurrency: 1, process: birthdayScanProcessor }),
    consume({
      queue: QUEUES.dispatchSlack,
      concurrency: config.dispatch.slack.concurrency,
      ...(config.dispatch.slack.ratePerSecond > 0
        ? { limiter: { max: config.dispatch.slack.ratePerSecond, duration: 1000 } }
        : {}),
      process: slackPostProcessor,
      settings: { backoffStrategy: backoffStrategy() },
    }),
  ],
  schedulers: [
    {
      queue: QUEUES.birthdayScan,
      id: 'birthday-scan',
      everyMs: config.birthdayScanIntervalSeconds * 1000,
      data: {},
    },
  ],
});
