// dispatch-slack: sends one notification to its workspace's Slack webhook, as the first channel of the generic
// dispatch skeleton (../dispatch/channel.processor.ts), which loads, claims, sends, records and retries. What is
// Slack's own lives here: the webhook URL is read (decrypted) only here, right before the post; a post that fails
// or is sent settles its birthday post in the same transaction; a permanent failure flags the workspace's Slack as
// broken (a webhook that cannot be decrypted: undecryptable) until its webhook is changed, and clears the API's
// cached listings that show slack_status.
//
// Pacing: posts to one webhook go out at most one a second across every process, keyed by webhook rather than
// workspace because two workspaces may share one hook.
import {
  findWorkspaceById,
  getDb,
  getWorkspaceSlackWebhook,
  markSlackBroken,
  markSlackUndecryptable,
  settleBirthdayPostForNotification,
  type Db,
} from '@nudge/db';
import { SlackWebhookAdapter } from '@nudge/channels';
import { DecryptionError } from '@nudge/crypto';
import type { Job, NotificationJob, Redis } from '@nudge/queue';
import { ListingCache } from '@nudge/cache';
import type { WorkerContext } from '../runtime';
import { dispatchNotification, type DispatchChannel, type DispatchOutcome } from '../dispatch/channel.processor';
import { redisTargetPacer, type TargetPacer } from '../dispatch/target-pacer';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../dispatch/retry-policy';

export interface SlackPostDeps {
  db: Db;
  slack: Pick<SlackWebhookAdapter, 'post'>;
  pacer: TargetPacer;
  retry: RetryPolicy;
  /** The API's listings show slack_status: a post that breaks the workspace clears them. */
  cache: Pick<ListingCache, 'invalidate'>;
}

export type SlackPostOutcome = DispatchOutcome;

/** One post per webhook per second; the key namespace is the one the pacing has always used. */
export function slackPacer(redis: Redis): TargetPacer {
  return redisTargetPacer(redis, { namespace: 'slack-pace', intervalMs: 1000 });
}

interface SlackMessage {
  webhook: string;
  text: string;
}

/** The Slack hooks of the dispatch skeleton. */
export function slackChannel(
  deps: Pick<SlackPostDeps, 'db' | 'slack' | 'cache'>,
  logger: WorkerContext['logger'],
): DispatchChannel<SlackMessage> {
  const { db } = deps;
  const flagUndecryptable = async (workspaceId: string) => {
    await markSlackUndecryptable(db, workspaceId);
    await deps.cache.invalidate('workspaces', [workspaceId]);
  };
  return {
    name: 'slack post',
    async prepare(n) {
      const workspace = await findWorkspaceById(db, n.workspace_id);
      let webhook: string | null;
      try {
        webhook = await getWorkspaceSlackWebhook(db, n.workspace_id);
      } catch (err) {
        if (!(err instanceof DecryptionError)) throw err;
        // No retry can read it (a retired key, a copied ciphertext): the webhook must be saved again.
        logger.error('cannot decrypt the workspace Slack webhook', { workspaceId: n.workspace_id, reason: err.reason });
        await flagUndecryptable(n.workspace_id);
        return { fail: 'webhook_unreadable' };
      }
      if (!workspace || !webhook) return { fail: 'no_webhook' };
      if (workspace.slack_status === 'broken') return { fail: 'slack_broken' };
      if (workspace.slack_status === 'undecryptable') return { fail: 'webhook_unreadable' };
      return { message: { webhook, text: n.body ?? '' }, target: webhook };
    },
    async send({ webhook, text }) {
      const res = await deps.slack.post(webhook, text);
      return { provider: 'slack', httpStatus: res.status };
    },
    async onSettled(trx, n, outcome) {
      await settleBirthdayPostForNotification(trx, n.workspace_id, n.id, outcome);
    },
    async onPermanentFailure(trx, n) {
      await markSlackBroken(trx, n.workspace_id);
    },
    async afterPermanentFailure(n) {
      await deps.cache.invalidate('workspaces', [n.workspace_id]);
    },
  };
}

export function deliverSlackNotification(
  job: Job<NotificationJob>,
  deps: SlackPostDeps,
  { logger }: Pick<WorkerContext, 'logger'>,
): Promise<SlackPostOutcome> {
  return dispatchNotification(job, slackChannel(deps, logger), {
    db: deps.db,
    pacer: deps.pacer,
    retry: deps.retry,
    logger,
  });
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
        pacer: overrides.pacer ?? slackPacer(ctx.producers.connection),
        retry: overrides.retry ?? DEFAULT_RETRY_POLICY,
        cache: overrides.cache ?? (cache ??= new ListingCache(ctx.producers.connection, ctx.logger)),
      },
      ctx,
    );
  };
}

export const slackPostProcessor = createSlackPostProcessor();
