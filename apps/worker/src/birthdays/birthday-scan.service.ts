// The birthday scheduler's tick. It finds the workspaces due a post, claims each one's local day together with the
// post's notification in one transaction, and only after the commit enqueues the Slack post. It also re-enqueues
// claims left without a live job (a crash between the commit and the enqueue, or Redis lost), so a day is never lost
// and never posted twice. `now` is always given, so tests drive the clock.
import type { Logger } from '@nudge/logger';
import {
  attachBirthdayPostNotification,
  claimBirthdayPost,
  failNotification,
  findBirthdayCandidates,
  findExistingBirthdayPosts,
  findNotificationForDispatch,
  findStaleBirthdayClaims,
  insertNotification,
  isFinalNotificationStatus,
  listBirthdaysCelebrated,
  markBirthdayPostEnqueued,
  setBirthdayPostStatus,
  type BirthdayCandidate,
  type Db,
} from '@nudge/db';
import {
  candidateBirthMds,
  celebratedBirthMds,
  isPostTimeReached,
  localDateAt,
  renderBirthdayMessage,
} from '@nudge/domain';
import { jobIdFor, type Producers } from '@nudge/queue';
import { channelJobsOn, reclaimDispatchJob, type ChannelJobs } from '../dispatch/dispatch-jobs';
import { endOutcomeUnknown } from '../dispatch/outcome-unknown';

/** The dispatch-slack queue as the scan needs it. */
export type SlackJobs = ChannelJobs;

export function slackJobsOn(producers: Producers): SlackJobs {
  return channelJobsOn(producers, 'slack');
}

export interface BirthdayScanDeps {
  db: Db;
  jobs: SlackJobs;
  reclaimAfterSeconds: number;
  logger: Logger;
}

export interface BirthdayScanOptions {
  now: Date;
  /** A manual run posts today's birthdays whatever the post time (a claimed day is still never posted twice). */
  manual?: boolean;
  workspaceId?: string;
}

export interface BirthdayScanResult {
  /** Days claimed by this tick. */
  claimed: number;
  /** Of those, how many were enqueued (the rest are left to the reclaimer). */
  enqueued: number;
  /** Older claims enqueued again. */
  reclaimed: number;
}

export interface DueBirthdayPost {
  workspace: BirthdayCandidate;
  localDate: string;
  /** The birth_md values the workspace celebrates on localDate. */
  birthMds: number[];
}

/**
 * Workspaces due a post at `now`: a usable webhook, a birthday on their local day (leap-day rule applied), the post
 * time passed (unless manual) and no post row for that day yet. Reads birthdays by birth_md only.
 */
export async function findDueBirthdayPosts(
  db: Db,
  opts: BirthdayScanOptions,
  logger?: Logger,
): Promise<DueBirthdayPost[]> {
  const candidates = await findBirthdayCandidates(db, candidateBirthMds(opts.now), { workspaceId: opts.workspaceId });
  const due: DueBirthdayPost[] = [];
  for (const workspace of candidates) {
    const localDate = localDateAt(opts.now, workspace.timezone);
    if (!localDate) {
      logger?.warn('workspace has an unknown timezone; no birthday post', { workspaceId: workspace.workspace_id });
      continue;
    }
    const birthMds = celebratedBirthMds(localDate, workspace.leap_day_rule);
    if (!workspace.birth_mds.some((md) => birthMds.includes(md))) continue;
    if (!opts.manual && !isPostTimeReached(opts.now, localDate, workspace.birthday_post_time, workspace.timezone))
      continue;
    due.push({ workspace, localDate, birthMds });
  }
  const taken = await findExistingBirthdayPosts(
    db,
    due.map((d) => ({ workspaceId: d.workspace.workspace_id, localDate: d.localDate })),
  );
  return due.filter((d) => !taken.has(`${d.workspace.workspace_id}|${d.localDate}`));
}

/**
 * Claims the day and inserts its notification, in one transaction. Answers the ids, or undefined when the day was
 * already claimed (another replica, a manual run) or nobody is celebrating after all.
 */
export async function claimBirthdayDay(
  db: Db,
  due: DueBirthdayPost,
  now: Date,
): Promise<{ postId: string; notificationId: string } | undefined> {
  const workspaceId = due.workspace.workspace_id;
  return db.transaction(async (trx) => {
    const birthdays = await listBirthdaysCelebrated(trx, workspaceId, due.birthMds);
    if (birthdays.length === 0) return undefined;
    // Concurrent claimers wait on the unique key here; all but the first get nothing back.
    const post = await claimBirthdayPost(trx, workspaceId, {
      localDate: due.localDate,
      birthdayIds: birthdays.map((b) => b.id),
      claimedAt: now,
    });
    if (!post) return undefined;
    const notification = await insertNotification(trx, workspaceId, {
      kind: 'birthday',
      channel: 'slack',
      dedupe_key: `birthday:${workspaceId}:${due.localDate}`,
      body: renderBirthdayMessage(
        birthdays.map((b) => b.name),
        due.workspace.birthday_message_template,
      ),
      scheduled_for: now,
    });
    // The key is derived from the claim's own unique key, so this cannot be taken unless the claim was.
    if (!notification)
      throw new Error(`birthday notification for ${workspaceId} ${due.localDate} already exists without its claim`);
    await attachBirthdayPostNotification(trx, workspaceId, post.id, notification.id);
    return { postId: post.id, notificationId: notification.id };
  });
}

/**
 * Enqueues again each claim still open after reclaimAfterSeconds without a live job. BullMQ ignores an add whose id
 * exists in any state, so each enqueue uses the next id (jobIdFor(notification, n)) and removes a finished job
 * left under it. A claim whose local day is over is failed instead: a birthday is not posted the day after.
 */
export async function reclaimStaleBirthdayPosts(
  deps: BirthdayScanDeps,
  now: Date,
  workspaceId?: string,
): Promise<number> {
  const { db, jobs, logger } = deps;
  const stale = await findStaleBirthdayClaims(db, new Date(now.getTime() - deps.reclaimAfterSeconds * 1000), {
    workspaceId,
  });
  let reclaimed = 0;
  for (const post of stale) {
    const nid = post.notification_id;
    if (!nid || !post.notification_status) {
      await setBirthdayPostStatus(db, post.workspace_id, post.id, 'failed');
      continue;
    }
    if (isFinalNotificationStatus(post.notification_status)) {
      const delivered = post.notification_status === 'sent' || post.notification_status === 'delivered';
      await setBirthdayPostStatus(db, post.workspace_id, post.id, delivered ? 'sent' : 'failed');
      continue;
    }
    // No job will post it: a new one, unless the local day is over. A live job (a retry waiting out Retry-After,
    // say) may finish after midnight, but a birthday is never newly sent the day after. One left `sending` by a job
    // that is gone may have reached Slack already: it is never posted again by itself (the double-post rule).
    const r = await reclaimDispatchJob(jobs, nid, post.enqueue_count, {
      beforeAdd: async () => {
        if (post.notification_status === 'sending') {
          const n = await findNotificationForDispatch(db, nid);
          if (n?.status !== 'sending') return false;
          await endOutcomeUnknown(db, n, (trx) => setBirthdayPostStatus(trx, post.workspace_id, post.id, 'failed'));
          logger.warn('birthday post outcome unknown: not posted again', {
            workspaceId: post.workspace_id,
            notificationId: nid,
          });
          return false;
        }
        if (localDateAt(now, post.timezone) === post.local_date) return true;
        await db.transaction(async (trx) => {
          await failNotification(trx, post.workspace_id, nid, 'expired');
          await setBirthdayPostStatus(trx, post.workspace_id, post.id, 'failed');
        });
        logger.warn('birthday post expired before it could be sent', {
          workspaceId: post.workspace_id,
          notificationId: nid,
        });
        return false;
      },
    });
    if (r.outcome === 'dropped') continue;
    await markBirthdayPostEnqueued(db, post.workspace_id, post.id, r.enqueueCount, now);
    if (r.outcome === 'live') continue;
    logger.info('birthday post enqueued again', {
      workspaceId: post.workspace_id,
      notificationId: nid,
      jobId: r.jobId,
    });
    reclaimed += 1;
  }
  return reclaimed;
}

/** One tick: claim and enqueue what is due, then re-enqueue stale claims. */
export async function runBirthdayScan(deps: BirthdayScanDeps, opts: BirthdayScanOptions): Promise<BirthdayScanResult> {
  const { db, jobs, logger } = deps;
  const result: BirthdayScanResult = { claimed: 0, enqueued: 0, reclaimed: 0 };
  for (const due of await findDueBirthdayPosts(db, opts, logger)) {
    const claim = await claimBirthdayDay(db, due, opts.now);
    if (!claim) continue;
    result.claimed += 1;
    try {
      await jobs.add(claim.notificationId, jobIdFor(claim.notificationId, 0));
      await markBirthdayPostEnqueued(db, due.workspace.workspace_id, claim.postId, 1, opts.now);
      result.enqueued += 1;
    } catch (err) {
      // The claim is committed; the reclaimer enqueues it once reclaimAfterSeconds have passed.
      logger.warn('could not enqueue a birthday post; it will be reclaimed', {
        err,
        workspaceId: due.workspace.workspace_id,
        notificationId: claim.notificationId,
      });
    }
  }
  result.reclaimed = await reclaimStaleBirthdayPosts(deps, opts.now, opts.workspaceId);
  return result;
}
