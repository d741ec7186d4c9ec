import type { Job, NotificationJob } from '@nudge/queue';
import type { WorkerContext } from '../runtime';

export async function slackPostProcessor(job: Job<NotificationJob>, { logger }: WorkerContext): Promise<void> {
  logger.info('slack post', { notificationId: job.data.notificationId });
  return Promise.resolve();
}
