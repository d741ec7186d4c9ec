// Birthday posts: one claim per workspace and local day, taken in the same transaction as the post's notification.
// The scheduler reads birthdays through the (birth_md, workspace_id) index, so a tick costs what is due today,
// not what the tables hold.
import type { Knex } from 'knex';
import type { Conn } from '../connection';
import type { LeapDayRule } from '@nudge/domain';
import type { NotificationStatus } from './notifications.repository';

export type BirthdayPostStatus = 'claimed' | 'sent' | 'failed';

export interface BirthdayPostRow {
  id: string;
  workspace_id: string;
  local_date: string;
  status: BirthdayPostStatus;
  birthday_ids: string[];
  notification_id: string | null;
  enqueue_count: number;
  claimed_at: Date;
  enqueued_at: Date | null;
  updated_at: Date;
}

/** A workspace that can post to Slack and has at least one birthday among the given month-days. */
export interface BirthdayCandidate {
  workspace_id: string;
  timezone: string;
  birthday_post_time: string;
  leap_day_rule: LeapDayRule;
  birthday_message_template: string | null;
  /** Which of the given month-days its birthdays fall on. */
  birth_mds: number[];
}

/**
 * The scheduler's query for workspaces that may be due: it starts from `birthdays.birth_md = ANY(...)` (the
 * btree index) and joins each hit to its workspace, so it never reads users and never scans birthdays.
 * Exposed as a builder so a test can EXPLAIN it.
 */
export function birthdayCandidatesQuery(
  db: Conn,
  birthMds: readonly number[],
  workspaceId?: string,
): Knex.QueryBuilder {
  const q = db('birthdays as b')
    .join('workspaces as w', 'w.id', 'b.workspace_id')
    .whereRaw('b.birth_md = ANY(?::smallint[])', [[...birthMds]])
    .whereNotNull('w.slack_webhook')
    .where('w.slack_status', 'ok')
    .groupBy('w.id')
    .select(
      'w.id as workspace_id',
      'w.timezone',
      'w.birthday_post_time',
      'w.leap_day_rule',
      'w.birthday_message_template',
      db.raw('array_agg(DISTINCT b.birth_md) AS birth_mds'),
    );
  if (workspaceId) q.where('b.workspace_id', workspaceId);
  return q;
}

export async function findBirthdayCandidates(
  db: Conn,
  birthMds: readonly number[],
  opts: { workspaceId?: string } = {},
): Promise<BirthdayCandidate[]> {
  if (birthMds.length === 0) return [];
  const rows = (await birthdayCandidatesQuery(db, birthMds, opts.workspaceId)) as BirthdayCandidate[];
  return rows.map((r) => ({ ...r, birth_mds: r.birth_mds.map(Number) }));
}

/** Of the given (workspace, local date) pairs, those that already have a post row, as `<workspace_id>|<date>`. */
export async function findExistingBirthdayPosts(
  db: Conn,
  pairs: readonly { workspaceId: string; localDate: string }[],
): Promise<Set<string>> {
  if (pairs.length === 0) return new Set();
  const rows = await db<{ workspace_id: string; local_date: string }>('birthday_posts')
    .whereRaw('(workspace_id, local_date) IN (SELECT * FROM unnest(?::uuid[], ?::date[]))', [
      pairs.map((p) => p.workspaceId),
      pairs.map((p) => p.localDate),
    ])
    .select('workspace_id', 'local_date');
  return new Set(rows.map((r) => `${r.workspace_id}|${r.local_date}`));
}

/** The birthdays a workspace celebrates among the given month-days (its local day's set), ordered by name. */
export async function listBirthdaysCelebrated(
  db: Conn,
  workspaceId: string,
  birthMds: readonly number[],
): Promise<{ id: string; name: string }[]> {
  return db('birthdays')
    .where({ workspace_id: workspaceId })
    .whereRaw('birth_md = ANY(?::smallint[])', [[...birthMds]])
    .orderBy([{ column: 'name' }, { column: 'id' }])
    .select('id', 'name');
}

/** Takes the day for a workspace, or answers undefined when someone already has it. */
export async function claimBirthdayPost(
  db: Conn,
  workspaceId: string,
  claim: { localDate: string; birthdayIds: string[]; claimedAt: Date },
): Promise<BirthdayPostRow | undefined> {
  const { rows } = await db.raw<{ rows: BirthdayPostRow[] }>(
    `INSERT INTO birthday_posts (workspace_id, local_date, status, birthday_ids, claimed_at, updated_at)
     VALUES (?, ?::date, 'claimed', ?::uuid[], ?, now())
     ON CONFLICT (workspace_id, local_date) DO NOTHING
     RETURNING *`,
    [workspaceId, claim.localDate, claim.birthdayIds, claim.claimedAt],
  );
  return rows[0];
}

export async function attachBirthdayPostNotification(
  db: Conn,
  workspaceId: string,
  postId: string,
  notificationId: string,
): Promise<void> {
  await db('birthday_posts')
    .where({ id: postId, workspace_id: workspaceId })
    .update({ notification_id: notificationId, updated_at: db.fn.now() });
}

/** Records that dispatch job number `enqueueCount - 1` was added at `at`. */
export async function markBirthdayPostEnqueued(
  db: Conn,
  workspaceId: string,
  postId: string,
  enqueueCount: number,
  at: Date,
): Promise<void> {
  await db('birthday_posts')
    .where({ id: postId, workspace_id: workspaceId })
    .update({
      enqueue_count: db.raw('GREATEST(enqueue_count, ?)', [enqueueCount]),
      enqueued_at: at,
      updated_at: db.fn.now(),
    });
}

/** Settles a claim that is still open; a post already settled (by its dispatch job, say) is left as it is. */
export async function setBirthdayPostStatus(
  db: Conn,
  workspaceId: string,
  postId: string,
  status: Exclude<BirthdayPostStatus, 'claimed'>,
): Promise<void> {
  await db('birthday_posts')
    .where({ id: postId, workspace_id: workspaceId, status: 'claimed' })
    .update({ status, updated_at: db.fn.now() });
}

/** Settles the post that a notification carries (when the notification is a birthday post at all). */
export async function settleBirthdayPostForNotification(
  db: Conn,
  workspaceId: string,
  notificationId: string,
  status: Exclude<BirthdayPostStatus, 'claimed'>,
): Promise<void> {
  await db('birthday_posts')
    .where({ notification_id: notificationId, workspace_id: workspaceId })
    .update({ status, updated_at: db.fn.now() });
}

export interface StaleBirthdayClaim extends BirthdayPostRow {
  timezone: string;
  notification_status: NotificationStatus | null;
}

/** Claims still open whose last enqueue (or the claim itself) is older than `olderThan`, across workspaces. */
export async function findStaleBirthdayClaims(
  db: Conn,
  olderThan: Date,
  opts: { workspaceId?: string; limit?: number } = {},
): Promise<StaleBirthdayClaim[]> {
  const q = db('birthday_posts as p')
    .join('workspaces as w', 'w.id', 'p.workspace_id')
    .leftJoin('notifications as n', 'n.id', 'p.notification_id')
    .where('p.status', 'claimed')
    .whereRaw('COALESCE(p.enqueued_at, p.claimed_at) <= ?', [olderThan])
    .orderBy('p.claimed_at')
    .limit(opts.limit ?? 500)
    .select('p.*', 'w.timezone', 'n.status as notification_status');
  if (opts.workspaceId) q.where('p.workspace_id', opts.workspaceId);
  return q as Promise<StaleBirthdayClaim[]>;
}

export async function findBirthdayPost(
  db: Conn,
  workspaceId: string,
  localDate: string,
): Promise<BirthdayPostRow | undefined> {
  return db<BirthdayPostRow>('birthday_posts').where({ workspace_id: workspaceId, local_date: localDate }).first();
}

export async function listBirthdayPosts(db: Conn, workspaceId: string): Promise<BirthdayPostRow[]> {
  return db<BirthdayPostRow>('birthday_posts').where({ workspace_id: workspaceId }).orderBy('local_date');
}
