// dispatch-slack: sends one notification to its workspace's Slack webhook. The webhook URL is read (decrypted) only
// here, right before the post. Every try is recorded as a notification_attempts row. A transient failure is
// retried by BullMQ through slackBackoffStrategy (its Retry-After honoured); a permanent one, the last transient one,
// or a Retry-After over the limit fails the notification and its birthday post at once (UnrecoverableError), and a
// permanent one also flags the workspace's Slack as broken until its webhook is changed.
//
// Pacing: when another post to the same webhook went out less than a second ago, the job is moved back to delayed
// for the remaining time (DelayedError, which does not count as an attempt) instead of holding a worker slot.
import {
  findNotificationForDispatch,
  findWorkspaceById,
  getDb,
  getWorkspaceSlackWebhook,
  isFinalNotificationStatus,
  markNotificationSending,
  markSlackBroken,
  recordNotificationAttempt,
  settleBirthdayPostForNotification,
  failNotification,
  type Db,
  type NotificationRow,
} from '@nudge/db';
import { isProviderError, SlackWebhookAdapter, type ProviderError } from '@nudge/channels';
import { DecryptionError } from '@nudge/crypto';
import { DelayedError, UnrecoverableError, type Job, type NotificationJob } from '@nudge/queue';
import type { WorkerContext } from '../runtime';
import { ListingCache } from '@nudge/cache';
import { redisSlackPacer, type SlackPacer } from '../birthdays/slack-pace';
import { DEFAULT_SLACK_RETRY, type SlackRetryPolicy } from '../birthdays/slack-retry';

export interface SlackPostDeps {
  db: Db;
  slack: Pick<SlackWebhookAdapter, 'post'>;
  pacer: SlackPacer;
  retry: SlackRetryPolicy;
  /** The API's listings show slack_status: a post that breaks the workspace clears them. */
  cache: Pick<ListingCache, 'invalidate'>;
}

export type SlackPostOutcome = 'sent' | 'missing' | 'already-final';

/** Fails the notification and its post without a try (nothing to post to). */
async function failWithoutAttempt(db: Db, n: NotificationRow, reason: string): Promise<never> {
  await db.transaction(async (trx) => {
    await failNotification(trx, n.workspace_id, n.id, reason);
    await settleBirthdayPostForNotification(trx, n.workspace_id, n.id, 'failed');
  });
  throw new UnrecoverableError(reason);
}

export async function deliverSlackNotification(job: Job<NotificationJob>, deps: SlackPostDeps, { logger }: Pick<WorkerContext, 'logger'>): Promise<SlackPostOutcome> {
  const { db } = deps;
  const n = await findNotificationForDispatch(db, job.data.notificationId);
  if (!n) return 'missing';
  if (isFinalNotificationStatus(n.status)) return 'already-final';

  const workspace = await findWorkspaceById(db, n.workspace_id);
  let webhook: string | null;
  try {
    webhook = await getWorkspaceSlackWebhook(db, n.workspace_id);
  } catch (err) {
    if (!(err instanceof DecryptionError)) throw err;
    // No retry can read it (a retired key, a copied ciphertext): the webhook must be saved again.
    logger.error('cannot decrypt the workspace Slack webhook', { workspaceId: n.workspace_id, reason: err.reason });
    await markSlackBroken(db, n.workspace_id);
    await deps.cache.invalidate('workspaces', [n.workspace_id]);
    return failWithoutAttempt(db, n, 'webhook_unreadable');
  }
  if (!workspace || !webhook) return failWithoutAttempt(db, n, 'no_webhook');
  if (workspace.slack_status === 'broken') return failWithoutAttempt(db, n, 'slack_broken');

  const waitMs = await deps.pacer.acquire(webhook);
  if (waitMs > 0) {
    await job.moveToDelayed(Date.now() + waitMs, job.token);
    throw new DelayedError();
  }

  const attempt = job.attemptsMade + 1;
  const started = Date.now();
  try {
    if (!(await markNotificationSending(db, n.workspace_id, n.id))) return 'already-final';
    const res = await deps.slack.post(webhook, n.body ?? '');
    await db.transaction(async (trx) => {
      await recordNotificationAttempt(trx, n.workspace_id, n.id, { attempt, outcome: 'sent', httpStatus: res.status, durationMs: Date.now() - started }, { provider: 'slack', at: new Date() });
      await settleBirthdayPostForNotification(trx, n.workspace_id, n.id, 'sent');
    });
    return 'sent';
  } catch (err) {
    // Anything but a provider's answer (the database, a bug) is left to BullMQ's retries as it is.
    if (!isProviderError(err)) throw err;
    return await handleProviderError(job, deps, n, err, attempt, Date.now() - started, logger);
  } finally {
    await deps.pacer.restartInterval(webhook);
  }
}

async function handleProviderError(
  job: Job<NotificationJob>,
  deps: SlackPostDeps,
  n: NotificationRow,
  err: ProviderError,
  attempt: number,
  durationMs: number,
  logger: WorkerContext['logger'],
): Promise<never> {
  const { db } = deps;
  const isLast = attempt >= (job.opts.attempts ?? 1);
  const waitTooLong = err.transient && err.retryAfterMs !== undefined && err.retryAfterMs > deps.retry.maxRetryAfterMs;
  const base = { attempt, httpStatus: err.status, durationMs };

  if (err.transient && !isLast && !waitTooLong) {
    await recordNotificationAttempt(db, n.workspace_id, n.id, { ...base, outcome: 'retry', error: err.code });
    // slackBackoffStrategy reads err.retryAfterMs.
    throw err;
  }

  const reason = waitTooLong ? `${err.code}: Retry-After ${Math.round((err.retryAfterMs ?? 0) / 1000)} s is over the ${Math.round(deps.retry.maxRetryAfterMs / 1000)} s limit` : err.code;
  await db.transaction(async (trx) => {
    await recordNotificationAttempt(trx, n.workspace_id, n.id, { ...base, outcome: 'failed', error: reason });
    await settleBirthdayPostForNotification(trx, n.workspace_id, n.id, 'failed');
    if (!err.transient) await markSlackBroken(trx, n.workspace_id);
  });
  if (!err.transient) await deps.cache.invalidate('workspaces', [n.workspace_id]);
  logger.warn(`slack post failed: ${reason}`, { notificationId: n.id, workspaceId: n.workspace_id, attempt, permanent: !err.transient });
  throw new UnrecoverableError(reason);
}

/** The processor with its dependencies; tests pass their own database, pacing or retry policy. */
export function createSlackPostProcessor(overrides: Partial<SlackPostDeps> = {}) {
  let slack: SlackPostDeps['slack'] | undefined = overrides.slack;
  let cache: ListingCache | undefined;
  return (job: Job<NotificationJob>, ctx: WorkerContext): Promise<SlackPostOutcome> => {
    slack ??= new SlackWebhookAdapter({ timeoutMs: ctx.config.slackTimeoutMs });
    return deliverSlackNotification(
      job,
      {
        db: overrides.db ?? getDb(),
        slack,
        pacer: overrides.pacer ?? redisSlackPacer(ctx.producers.connection),
        retry: overrides.retry ?? DEFAULT_SLACK_RETRY,
        cache: overrides.cache ?? (cache ??= new ListingCache(ctx.producers.connection, ctx.logger)),
      },
      ctx,
    );
  };
}

export const slackPostProcessor = createSlackPostProcessor();
