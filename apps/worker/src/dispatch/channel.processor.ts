// The one way a notification is delivered, whatever its channel, so that Slack, email, SMS and WhatsApp differ only
// in their hooks: where and what to send, the adapter call, and what a failure means for the rest of the data.
//
// A job carries the notification id only. The notification is loaded; a missing or final one is left alone (a job
// that runs twice sends nothing the second time), and one whose occurrence has not come yet waits for it (a
// notification is never sent before its occurrence). One found `sending` was claimed by a try that never recorded
// its end (a crash, a database error after the provider may have accepted it): it is never sent again by itself, but
// ends failed with an `unknown` attempt and last_error outcome_unknown (a resend sends it on purpose). The channel prepares the message, names why none can be sent
// (the notification then fails without a try), or why none should be any more (a paused reminder: it is cancelled). The job waits its turn for the target (pacing), claims the
// notification (queued -> sending, in one statement with the message as rendered), sends through the adapter, and
// records the try as a notification_attempts row with its outcome, through the outcome recorder (./outcome-batcher.ts:
// writes of jobs finishing together share one statement; each job still waits for its own to commit). A transient provider error is thrown on for BullMQ to retry (backoffStrategy reads its
// Retry-After); a permanent one, the last transient one, or a Retry-After over the limit fails the notification at
// once (UnrecoverableError): `undeliverable` when the address itself is bad, else `failed`, and then the channel's
// afterFailure hook may send a fallback. A 429 with Retry-After holds the provider account the send went through
// (the pacer), so only that account's jobs wait. Anything that is not a provider's answer (the database, a bug) is
// left to BullMQ's retries as it is.
import {
  failNotification,
  findNotificationForDispatch,
  isFinalNotificationStatus,
  markNotificationSending,
  type Db,
  type NotificationClaim,
  type NotificationRow,
  type Trx,
} from '@nudge/db';
import { isProviderError, type ProviderError } from '@nudge/channels';
import type { Logger } from '@nudge/logger';
import { DelayedError, UnrecoverableError, type Job, type NotificationJob } from '@nudge/queue';
import { DEFAULT_RETRY_POLICY, retryVerdict, type RetryPolicy } from './retry-policy';
import { paceJob, type TargetPacer } from './target-pacer';
import { directOutcomes, type OutcomeRecorder, type OutcomeWrite } from './outcome-batcher';
import { OUTCOME_UNKNOWN } from './outcome-unknown';

export type DispatchOutcome = 'sent' | 'missing' | 'already-final' | 'cancelled' | 'outcome-unknown';

/** Tries of the write that records a successful send, before the job gives up on it. */
const RECORD_TRIES = 3;

/**
 * What a channel makes of a notification: the message and the target it is paced by, why it cannot be sent (it
 * fails), or why it should not be sent any more (it is cancelled).
 */
export type Prepared<M> =
  | {
      message: M;
      target: string;
      /** The provider account and sender the send goes out through: held after its 429, alone. */
      account?: string;
      /** The message as rendered, kept with the notification when it is claimed (its history shows it). */
      content?: { subject: string | null; body: string };
    }
  | { fail: string }
  | { cancel: string };

/** What a successful send tells the attempt record. */
export interface SendReceipt {
  provider: string;
  httpStatus?: number;
  providerMessageId?: string;
}

export interface DispatchChannel<M, N extends NotificationRow = NotificationRow> {
  /** How logs name a send on this channel (`slack post`). */
  name: string;
  /**
   * Reads the notification by id with what prepare needs, in one query (a reminder's recipient and route); without
   * it the notification alone is read and prepare reads the rest.
   */
  load?(id: string): Promise<N | undefined>;
  /** Loads the target and renders the message, or answers `{ fail: reason }` when nothing can be sent. */
  prepare(n: N): Promise<Prepared<M>>;
  /** Sends through the channel's adapter; a failure is a ProviderError of @nudge/channels. */
  send(message: M, n: N): Promise<SendReceipt>;
  /** Rows that follow the notification's outcome (a birthday post), written in the transaction that records it. */
  onSettled?(trx: Trx, n: NotificationRow, outcome: 'sent' | 'failed'): Promise<void>;
  /** A permanent provider error, in the same transaction: what the target's owner must fix (a broken webhook). */
  onPermanentFailure?(trx: Trx, n: NotificationRow, err: ProviderError): Promise<void>;
  /** After that transaction commits: what must not see the change before it is visible (cached listings). */
  afterPermanentFailure?(n: NotificationRow, err: ProviderError): Promise<void>;
  /** What last_error keeps of a provider error that ends the notification (its stable code by default). */
  lastError?(err: ProviderError): string;
  /**
   * After a failure that ends the notification commits (permanent, attempts exhausted, or nothing to send to):
   * what follows it elsewhere (a reminder's fallback channel). Not after a cancel.
   */
  afterFailure?(n: N): Promise<void>;
}

export interface DispatchDeps {
  db: Db;
  pacer: TargetPacer;
  retry?: RetryPolicy;
  logger: Logger;
  /** Where tries are recorded; each on its own when not given. */
  outcomes?: OutcomeRecorder;
  /** How a notification is claimed (queued -> sending; false: not queued any more); markNotificationSending by default. */
  claim?: (claim: NotificationClaim) => Promise<boolean>;
}

/** A try's outcome write, with the channel's rows that follow it in the same transaction. */
function outcomeWrite<M, N extends NotificationRow>(
  channel: DispatchChannel<M, N>,
  n: N,
  attempt: OutcomeWrite['attempt'],
  extra: { sent?: OutcomeWrite['sent']; permanent?: ProviderError } = {},
): OutcomeWrite {
  // A retry settles nothing: the notification goes back to queued.
  const settled = attempt.outcome === 'retry' ? undefined : attempt.outcome === 'sent' ? 'sent' : 'failed';
  const { permanent } = extra;
  const follows =
    (settled !== undefined && channel.onSettled !== undefined) ||
    (permanent !== undefined && channel.onPermanentFailure !== undefined);
  return {
    workspaceId: n.workspace_id,
    id: n.id,
    attempt,
    ...(extra.sent ? { sent: extra.sent } : {}),
    ...(follows
      ? {
          follow: async (trx: Trx) => {
            if (settled) await channel.onSettled?.(trx, n, settled);
            if (permanent) await channel.onPermanentFailure?.(trx, n, permanent);
          },
        }
      : {}),
  };
}

/** Fails the notification and what follows it without a try, and stops the job without retry. */
async function failWithoutAttempt<M, N extends NotificationRow>(
  channel: DispatchChannel<M, N>,
  db: Db,
  n: N,
  reason: string,
): Promise<never> {
  await db.transaction(async (trx) => {
    await failNotification(trx, n.workspace_id, n.id, reason);
    await channel.onSettled?.(trx, n, 'failed');
  });
  await channel.afterFailure?.(n);
  throw new UnrecoverableError(reason);
}

export async function dispatchNotification<M, N extends NotificationRow = NotificationRow>(
  job: Job<NotificationJob>,
  channel: DispatchChannel<M, N>,
  deps: DispatchDeps,
): Promise<DispatchOutcome> {
  const { db } = deps;
  const outcomes = deps.outcomes ?? directOutcomes(db);
  const id = job.data.notificationId;
  const n = channel.load ? await channel.load(id) : ((await findNotificationForDispatch(db, id)) as N | undefined);
  if (!n) return 'missing';
  if (isFinalNotificationStatus(n.status)) return 'already-final';
  if (n.status === 'sending') {
    // A try before this one claimed it and never recorded how it ended (a crash, a database error after the
    // provider may have accepted): sending again could send twice, so it ends failed. A resend can send it on purpose.
    await outcomes.record(
      outcomeWrite(channel, n, { attempt: n.attempts + 1, outcome: 'unknown', error: OUTCOME_UNKNOWN, durationMs: 0 }),
    );
    deps.logger.warn(`${channel.name} outcome unknown: not sent again`, {
      notificationId: n.id,
      workspaceId: n.workspace_id,
    });
    return 'outcome-unknown';
  }
  if (n.occurrence_at && n.occurrence_at.getTime() > Date.now()) {
    // Added early (a clock ahead of this one): it waits for its occurrence rather than go out before it.
    await job.moveToDelayed(n.occurrence_at.getTime(), job.token);
    throw new DelayedError();
  }

  const prepared = await channel.prepare(n);
  if ('fail' in prepared) return failWithoutAttempt(channel, db, n, prepared.fail);
  if ('cancel' in prepared) {
    await db.transaction(async (trx) => {
      await failNotification(trx, n.workspace_id, n.id, prepared.cancel, 'cancelled');
      await channel.onSettled?.(trx, n, 'failed');
    });
    return 'cancelled';
  }

  await paceJob(job, deps.pacer, prepared.target, prepared.account);

  // Attempts are numbered across jobs (a resend is a new attempt, not attempt 1 again); the retry budget is the job's.
  const attempt = n.attempts + 1;
  const jobTry = job.attemptsMade + 1;
  const started = Date.now();
  // The target's interval restarts once the provider has answered, alongside the outcome's write rather than after
  // it (a job's latency is its round trips one after another); the job still waits for both.
  let restarted: Promise<void> | undefined;
  const restartInterval = () => {
    if (!restarted) {
      restarted = deps.pacer.restartInterval(prepared.target);
      // Awaited in `finally`; until then a failure must not count as unhandled.
      restarted.catch(() => undefined);
    }
    return restarted;
  };
  try {
    const claim = { workspaceId: n.workspace_id, id: n.id, ...(prepared.content ? { content: prepared.content } : {}) };
    const claimed = deps.claim
      ? await deps.claim(claim)
      : await markNotificationSending(db, n.workspace_id, n.id, prepared.content);
    if (!claimed) return 'already-final';
    let receipt: SendReceipt;
    try {
      receipt = await channel.send(prepared.message, n);
    } finally {
      void restartInterval();
    }
    const durationMs = Date.now() - started;
    // The provider has it: the write is retried a few times, since a job that fails here leaves the notification
    // `sending`, and the next try can then only end it outcome_unknown.
    for (let tryNo = 1; ; tryNo += 1) {
      try {
        await outcomes.record(
          outcomeWrite(
            channel,
            n,
            { attempt, outcome: 'sent', httpStatus: receipt.httpStatus, durationMs },
            { sent: { provider: receipt.provider, providerMessageId: receipt.providerMessageId, at: new Date() } },
          ),
        );
        return 'sent';
      } catch (err) {
        if (tryNo >= RECORD_TRIES) throw err;
        await new Promise((resolve) => setTimeout(resolve, 100 * tryNo));
      }
    }
  } catch (err) {
    if (!isProviderError(err)) throw err;
    return await settleProviderError(
      job,
      channel,
      { ...deps, outcomes },
      n,
      err,
      { attempt, jobTry, account: prepared.account },
      Date.now() - started,
    );
  } finally {
    await restartInterval();
  }
}

async function settleProviderError<M, N extends NotificationRow>(
  job: Job<NotificationJob>,
  channel: DispatchChannel<M, N>,
  deps: DispatchDeps & { outcomes: OutcomeRecorder },
  n: N,
  err: ProviderError,
  { attempt, jobTry, account }: { attempt: number; jobTry: number; account?: string },
  durationMs: number,
): Promise<never> {
  const { outcomes } = deps;
  const verdict = retryVerdict(err, jobTry, job.opts.attempts ?? 1, deps.retry ?? DEFAULT_RETRY_POLICY);
  const base = { attempt, httpStatus: err.status, durationMs };

  // A 429 holds the whole provider account (this workspace's, or the platform's) for its Retry-After.
  if (account && err.code === 'rate_limited' && err.retryAfterMs !== undefined)
    await deps.pacer.hold(account, Math.min(err.retryAfterMs, (deps.retry ?? DEFAULT_RETRY_POLICY).maxRetryAfterMs));

  if (verdict.retry) {
    await outcomes.record(outcomeWrite(channel, n, { ...base, outcome: 'retry', error: err.code }));
    // BullMQ retries it through backoffStrategy, which reads err.retryAfterMs.
    throw err;
  }

  // A bad address ends it undeliverable; anything else failed. last_error keeps the channel's account of the error,
  // unless the reason is the retry policy's own (a Retry-After over the limit).
  const outcome = verdict.permanent && err.undeliverable ? 'undeliverable' : 'failed';
  const error = channel.lastError && verdict.reason === err.code ? channel.lastError(err) : verdict.reason;
  await outcomes.record(
    outcomeWrite(channel, n, { ...base, outcome, error }, verdict.permanent ? { permanent: err } : {}),
  );
  if (verdict.permanent) await channel.afterPermanentFailure?.(n, err);
  await channel.afterFailure?.(n);
  deps.logger.warn(`${channel.name} ${outcome}: ${error}`, {
    notificationId: n.id,
    workspaceId: n.workspace_id,
    attempt,
    permanent: verdict.permanent,
  });
  throw new UnrecoverableError(verdict.reason);
}
