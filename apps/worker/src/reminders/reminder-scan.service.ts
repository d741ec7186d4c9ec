// The reminder scan's tick. In one transaction it claims the assignments (reminder, client) due before the next tick
// plus a margin (FOR UPDATE SKIP LOCKED, so racing scanners never share a row), inserts one notification per
// (reminder, client, occurrence) under the unique dedupe_key, and advances each assignment's next_run_at with the
// reminder's recurrence. After an outage only the latest missed occurrence is sent; the others are logged as
// skipped. After the commit each new notification is enqueued on its channel's queue, delayed to its occurrence, so a
// send is seconds late rather than a tick late. A crash between the commit and the enqueue, or a Redis that lost its
// jobs, is repaired by the reconciler, which re-enqueues notifications still queued with no live job. `now` is
// always given, so tests drive the clock.
// A payment reminder's notification gets its payment row in the same transaction, and after the commit a
// billing-checkout job instead of its dispatch job: the billing worker makes the Checkout Session (so the message can
// carry its link) and then enqueues the dispatch job. A client who has paid for the reminder is not claimed again:
// their assignment stops, and the reminder completes once none is left.
import type { Logger } from '@nudge/logger';
import {
  advanceAssignments,
  claimDueAssignments,
  findPaymentsOfNotifications,
  findStaleQueuedReminderNotifications,
  insertReminderNotifications,
  insertReminderPayments,
  markCheckoutsEnqueued,
  markNotificationEnqueued,
  settleRemindersAfterScan,
  type AssignmentAdvance,
  type Db,
  type NotificationRow,
  type PaymentRow,
  type ReminderRecipient,
} from '@nudge/db';
import { upcomingOccurrences, type OccurrenceContext, type ReminderSchedule } from '@nudge/domain';
import { jobIdFor } from '@nudge/queue';
import { reclaimDispatchJob, type ChannelJobs, type DispatchJobs } from '../dispatch/dispatch-jobs';
import { endOutcomeUnknown } from '../dispatch/outcome-unknown';
import { enqueueCheckouts } from '../billing/checkout-jobs';

/** How far past the next tick the scan looks, so a tick that runs a little late still finds everything in time. */
export const SCAN_MARGIN_SECONDS = 30;
/** Assignments claimed per transaction. */
export const SCAN_BATCH_SIZE = 500;

export interface ReminderScanDeps {
  db: Db;
  jobs: DispatchJobs;
  /** The billing-checkout queue (checkoutJobsOn): payment reminders' notifications wait for their link there. */
  checkouts: ChannelJobs;
  intervalSeconds: number;
  reclaimAfterSeconds: number;
  logger: Logger;
  batchSize?: number;
}

export interface ReminderScanResult {
  /** Assignments claimed. */
  claimed: number;
  /** Notifications inserted (a rerun inserts none). */
  created: number;
  /** Of those, how many were enqueued (the rest failed at once for want of a channel, or are left to the reconciler). */
  enqueued: number;
  /** Missed occurrences skipped (only the latest missed one is sent). */
  skipped: number;
  /** Payments inserted for payment reminders (one per notification; a rerun inserts none). */
  payments: number;
  /** Assignments stopped because their client has paid the reminder. */
  paid: number;
  /** Reminders completed: no assignment has a next run left. */
  completed: number;
  /** Queued notifications enqueued again by the reconciler. */
  reclaimed: number;
}

export function occurrenceContext(r: ReminderRecipient): OccurrenceContext {
  return {
    zone: r.schedule_timezone === 'recipient' ? r.client_timezone : (r.schedule_timezone ?? r.workspace_timezone),
    createdAt: r.reminder_created_at,
    leapDayRule: r.leap_day_rule,
  };
}

export interface OccurrencePlan {
  /** The occurrences to send: the latest missed one (or the one due), and every later one up to the horizon. */
  take: Date[];
  /** Missed occurrences superseded by a later missed one: how many, the first and the last. */
  skipped: { count: number; first?: Date; last?: Date };
  /** The assignment's next run, after the horizon; null when the schedule is exhausted. */
  next: Date | null;
}

/** Occurrences strictly after `after`, expanded a chunk at a time (each expansion walks the rule from its start). */
function* occurrencesAfter(schedule: ReminderSchedule, ctx: OccurrenceContext, after: Date): Generator<Date, void> {
  let cursor = after;
  for (;;) {
    const chunk = upcomingOccurrences(schedule, ctx, cursor, 256);
    yield* chunk;
    const last = chunk[chunk.length - 1];
    if (chunk.length < 256 || !last) return;
    cursor = last;
  }
}

/** What an assignment due at `r.next_run_at` sends in a tick at `now` looking ahead to `horizon`. */
export function planOccurrences(r: ReminderRecipient, now: Date, horizon: Date): OccurrencePlan {
  const later = occurrencesAfter(r.schedule as ReminderSchedule, occurrenceContext(r), r.next_run_at as Date);
  const following = (): Date | null => {
    const step = later.next();
    return step.done ? null : step.value;
  };
  let occ = r.next_run_at as Date;
  let next = following();
  const skipped: OccurrencePlan['skipped'] = { count: 0 };
  while (occ <= now && next && next <= now) {
    skipped.count += 1;
    skipped.first ??= occ;
    skipped.last = occ;
    occ = next;
    next = following();
  }
  const take = [occ];
  while (next && next <= horizon) {
    take.push(next);
    next = following();
  }
  return { take, skipped, next };
}

interface ClaimedBatch {
  claimed: number;
  skipped: number;
  completed: number;
  paid: number;
  created: NotificationRow[];
  payments: PaymentRow[];
}

/** One transaction: claim a batch of due assignments, insert their notifications, advance them. */
async function claimBatch(deps: ReminderScanDeps, now: Date, horizon: Date): Promise<ClaimedBatch> {
  const { db, logger } = deps;
  return db.transaction(async (trx) => {
    const due = await claimDueAssignments(trx, horizon, deps.batchSize ?? SCAN_BATCH_SIZE);
    const items: { recipient: ReminderRecipient; occurrenceAt: Date }[] = [];
    const advances: AssignmentAdvance[] = [];
    let skipped = 0;
    let paid = 0;
    for (const r of due) {
      const key = { reminderId: r.reminder_id, clientId: r.client_id };
      if (r.has_paid) {
        // Paid: no further payment reminders for this client; settleRemindersAfterScan completes the reminder when
        // no assignment is left.
        advances.push({ ...key, nextRunAt: null, lastOccurrenceAt: null, occurrences: 0 });
        paid += 1;
        continue;
      }
      let plan: OccurrencePlan;
      try {
        plan = planOccurrences(r, now, horizon);
      } catch (err) {
        // A schedule the rules cannot expand (the API validates every one): stop it rather than fail every tick.
        logger.error('reminder schedule cannot be expanded; its assignment stops', { err, ...key });
        advances.push({ ...key, nextRunAt: null, lastOccurrenceAt: null, occurrences: 0 });
        continue;
      }
      if (plan.skipped.count) {
        skipped += plan.skipped.count;
        logger.warn('missed reminder occurrences skipped; only the latest is sent', {
          ...key,
          skipped: plan.skipped.count,
          first: plan.skipped.first,
          last: plan.skipped.last,
          sent: plan.take[0],
        });
      }
      for (const occurrenceAt of plan.take) items.push({ recipient: r, occurrenceAt });
      advances.push({
        ...key,
        nextRunAt: plan.next,
        lastOccurrenceAt: plan.take[plan.take.length - 1] ?? null,
        occurrences: plan.take.length,
      });
    }
    await advanceAssignments(trx, advances);
    // Each new notification's first job id is taken in the insert, so that its enqueue after the commit writes
    // nothing more to the row. A payment reminder's is enqueued by its checkout instead, under the reclaim rule,
    // which then adds job 1.
    const results = await insertReminderNotifications(trx, items, { firstJobTaken: true });
    const created = results.filter((x) => x.created).map((x) => x.notification);
    const payments = await insertReminderPayments(trx, created);
    const completed = await settleRemindersAfterScan(
      trx,
      due.map((r) => r.reminder_id),
    );
    return { claimed: due.length, skipped, completed: completed.length, paid, created, payments };
  });
}

/**
 * Adds the dispatch jobs of the scan's new queued notifications, delayed to their occurrences, one addBulk per
 * channel: each under the job id its insert took (enqueue_count - 1), so nothing more is written. A failure is left
 * to the reconciler: those notifications stay queued. Answers how many were enqueued.
 */
export async function enqueueNotifications(
  deps: Pick<ReminderScanDeps, 'jobs' | 'logger'>,
  notifications: readonly NotificationRow[],
  now: Date,
): Promise<number> {
  const byChannel = new Map<NotificationRow['channel'], NotificationRow[]>();
  for (const n of notifications) {
    if (n.status !== 'queued') continue;
    const list = byChannel.get(n.channel) ?? [];
    list.push(n);
    byChannel.set(n.channel, list);
  }
  let enqueued = 0;
  for (const [channel, list] of byChannel) {
    try {
      await deps.jobs(channel).addMany(
        list.map((n) => ({
          notificationId: n.id,
          jobId: jobIdFor(n.id, n.enqueue_count - 1),
          delayMs: n.occurrence_at ? Math.max(0, n.occurrence_at.getTime() - now.getTime()) : 0,
        })),
      );
      enqueued += list.length;
    } catch (err) {
      deps.logger.warn('could not enqueue reminder notifications; the reconciler will', {
        err,
        channel,
        count: list.length,
      });
    }
  }
  return enqueued;
}

/**
 * Re-enqueues each reminder notification still queued RECLAIM_AFTER past its occurrence and its last enqueue that no
 * live job will send, under the next job id (the reclaim rule every reconciler shares). One left `sending` with no
 * live job (its job gone with Redis, or failed as stalled after repeated crashes) may have reached the provider: it
 * ends outcome_unknown, never sent again by itself.
 */
export async function reconcileReminderNotifications(
  deps: Pick<ReminderScanDeps, 'db' | 'jobs' | 'checkouts' | 'logger' | 'reclaimAfterSeconds'>,
  now: Date,
  opts: { workspaceId?: string } = {},
): Promise<number> {
  const { db, logger } = deps;
  const stale = await findStaleQueuedReminderNotifications(
    db,
    new Date(now.getTime() - deps.reclaimAfterSeconds * 1000),
    opts,
  );
  const payments = await findPaymentsOfNotifications(
    db,
    stale.map((n) => n.id),
  );
  let reclaimed = 0;
  for (const n of stale) {
    const payment = payments.get(n.id);
    if (payment?.status === 'open' && !payment.checkout_url) {
      // Its link was never made (the checkout job lost or failed for good): the checkout job again, which then
      // enqueues the dispatch job. Touching the notification restarts its reclaim clock.
      const r = await reclaimDispatchJob(deps.checkouts, payment.id, payment.checkout_enqueue_count);
      await markCheckoutsEnqueued(db, [{ workspaceId: n.workspace_id, id: payment.id, enqueueCount: r.enqueueCount }]);
      await markNotificationEnqueued(db, n.workspace_id, n.id, n.enqueue_count);
      if (r.outcome !== 'enqueued') continue;
      reclaimed += 1;
      logger.info('payment checkout enqueued again', { paymentId: payment.id, workspaceId: n.workspace_id });
      continue;
    }
    const r = await reclaimDispatchJob(deps.jobs(n.channel), n.id, n.enqueue_count);
    await markNotificationEnqueued(db, n.workspace_id, n.id, r.enqueueCount);
    if (r.outcome !== 'enqueued') continue;
    reclaimed += 1;
    logger.info('reminder notification enqueued again', {
      notificationId: n.id,
      workspaceId: n.workspace_id,
      jobId: r.jobId,
    });
  }
  const abandoned = await findStaleQueuedReminderNotifications(
    db,
    new Date(now.getTime() - deps.reclaimAfterSeconds * 1000),
    { ...opts, status: 'sending' },
  );
  for (const n of abandoned)
    await reclaimDispatchJob(deps.jobs(n.channel), n.id, n.enqueue_count, {
      beforeAdd: async () => {
        await endOutcomeUnknown(db, n);
        logger.warn('reminder notification outcome unknown: not sent again', {
          notificationId: n.id,
          workspaceId: n.workspace_id,
        });
        return false;
      },
    });
  return reclaimed;
}

/**
 * Enqueues what follows a batch's commit: the checkout job of each new payment, and the dispatch job of every other
 * new notification (a payment's notification is enqueued by its checkout, once the link exists).
 */
export async function enqueueReminderNotifications(
  deps: Pick<ReminderScanDeps, 'db' | 'jobs' | 'checkouts' | 'logger'>,
  notifications: readonly NotificationRow[],
  payments: readonly PaymentRow[],
  now: Date,
): Promise<number> {
  const waiting = new Set(payments.map((p) => p.notification_id));
  const checkouts = await enqueueCheckouts(deps, payments);
  return (
    checkouts +
    (await enqueueNotifications(
      deps,
      notifications.filter((n) => !waiting.has(n.id)),
      now,
    ))
  );
}

/** One tick: claim and enqueue what is due before the next tick, then repair what lost its job. */
export async function runReminderScan(deps: ReminderScanDeps, now: Date): Promise<ReminderScanResult> {
  const horizon = new Date(now.getTime() + (deps.intervalSeconds + SCAN_MARGIN_SECONDS) * 1000);
  const result: ReminderScanResult = {
    claimed: 0,
    created: 0,
    enqueued: 0,
    skipped: 0,
    payments: 0,
    paid: 0,
    completed: 0,
    reclaimed: 0,
  };
  for (;;) {
    const batch = await claimBatch(deps, now, horizon);
    result.claimed += batch.claimed;
    result.skipped += batch.skipped;
    result.completed += batch.completed;
    result.created += batch.created.length;
    result.payments += batch.payments.length;
    result.paid += batch.paid;
    result.enqueued += await enqueueReminderNotifications(deps, batch.created, batch.payments, now);
    if (batch.claimed < (deps.batchSize ?? SCAN_BATCH_SIZE)) break;
  }
  result.reclaimed = await reconcileReminderNotifications(deps, now);
  return result;
}
