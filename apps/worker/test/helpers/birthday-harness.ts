// What the birthday suites share: a database of their own (the scan reads every workspace, and other suites share
// the test database), the fake Slack, real BullMQ dispatch workers and helpers to create workspaces and birthdays.
import { randomBytes } from 'node:crypto';
import { getConfig } from '@nudge/config';
import winston from 'winston';
import {
  findBirthdayPost,
  findNotification,
  isFinalNotificationStatus,
  listNotificationAttempts,
  markSlackBroken,
  setWorkspaceSlackWebhook,
  type BirthdayPostRow,
  type Db,
  type NotificationAttemptRow,
  type NotificationRow,
} from '@nudge/db';
import { SlackWebhookAdapter } from '@nudge/channels';
import { createRedis, createWorker, Producers, QUEUES, type Redis, type Worker } from '@nudge/queue';
import { createPrivateDatabase, startFakeSlack, waitFor, type FakeSlack } from '@nudge/testing';
import type { WorkerContext } from '../../src/runtime';
import {
  runBirthdayScan,
  slackJobsOn,
  type BirthdayScanDeps,
  type BirthdayScanOptions,
  type BirthdayScanResult,
} from '../../src/birthdays/birthday-scan.service';
import { createSlackPostProcessor, slackPacer } from '../../src/processors/slack-post.processor';
import { DEFAULT_RETRY_POLICY, backoffStrategy, type RetryPolicy } from '../../src/dispatch/retry-policy';

/** Retries in milliseconds rather than seconds; the rules are the production ones. */
export const FAST_RETRY: RetryPolicy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 20, maxDelayMs: 200 };

export interface WorkspaceOptions {
  timezone?: string;
  postTime?: string;
  leapDayRule?: 'feb28' | 'mar1';
  /** A webhook URL; a fresh one on the fake by default; null for none. */
  webhook?: string | null;
  broken?: boolean;
  template?: string;
}

export interface BirthdayHarness {
  db: Db;
  url: string;
  slack: FakeSlack;
  producers: Producers;
  redis: Redis;
  ctx: WorkerContext;
  dispatchWorkers: Worker[];
  scanDeps(overrides?: Partial<BirthdayScanDeps>): BirthdayScanDeps;
  scan(
    now: Date | string,
    opts?: Omit<BirthdayScanOptions, 'now'>,
    overrides?: Partial<BirthdayScanDeps>,
  ): Promise<BirthdayScanResult>;
  workspace(opts?: WorkspaceOptions): Promise<{ id: string; hook: string | null }>;
  birthday(workspaceId: string, name: string, dateOfBirth: string): Promise<string>;
  post(workspaceId: string, localDate: string): Promise<BirthdayPostRow | undefined>;
  notification(workspaceId: string, localDate: string): Promise<NotificationRow | undefined>;
  /** Waits until the day's notification is final and answers it with its attempts. */
  settled(
    workspaceId: string,
    localDate: string,
    timeoutMs?: number,
  ): Promise<{ notification: NotificationRow; attempts: NotificationAttemptRow[] }>;
  clear(): Promise<void>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /** Dispatch workers, each on its own Redis connection like separate processes (2). */
  dispatchWorkers?: number;
  slackTimeoutMs?: number;
  retry?: RetryPolicy;
}

export async function startBirthdayHarness(opts: HarnessOptions = {}): Promise<BirthdayHarness> {
  const privateDb = await createPrivateDatabase('nudge_bday');
  const { db, url } = privateDb;

  const slack = await startFakeSlack();
  const producers = new Producers();
  const redis = createRedis('client');
  // Expected warnings (a simulated crash, an expired claim) would only clutter the test output.
  const ctx: WorkerContext = { config: getConfig(), logger: winston.createLogger({ silent: true }), producers };
  const retry = opts.retry ?? FAST_RETRY;
  // The fake listens on http://127.0.0.1, which the test environment lists in SLACK_WEBHOOK_HOSTS.
  const adapter = new SlackWebhookAdapter({ timeoutMs: opts.slackTimeoutMs ?? 300 });
  const deliver = createSlackPostProcessor({ db, slack: adapter, retry, pacer: slackPacer(redis) });
  const dispatchWorkers = Array.from({ length: opts.dispatchWorkers ?? 2 }, () =>
    createWorker(QUEUES.dispatchSlack, (job) => deliver(job, ctx), {
      concurrency: 5,
      settings: { backoffStrategy: backoffStrategy(retry) },
    }),
  );
  for (const w of dispatchWorkers) w.on('error', () => undefined);

  const tag = randomBytes(3).toString('hex');
  let n = 0;
  const scanDeps = (overrides: Partial<BirthdayScanDeps> = {}): BirthdayScanDeps => ({
    db,
    jobs: slackJobsOn(producers),
    reclaimAfterSeconds: 120,
    logger: ctx.logger,
    ...overrides,
  });
  const notification = async (workspaceId: string, localDate: string) => {
    const post = await findBirthdayPost(db, workspaceId, localDate);
    return post?.notification_id ? findNotification(db, workspaceId, post.notification_id) : undefined;
  };

  return {
    db,
    url,
    slack,
    producers,
    redis,
    ctx,
    dispatchWorkers,
    scanDeps,
    scan: (now, scanOpts = {}, overrides = {}) =>
      runBirthdayScan(scanDeps(overrides), { ...scanOpts, now: typeof now === 'string' ? new Date(now) : now }),
    async workspace(w = {}) {
      const [row] = await db('workspaces')
        .insert({
          name: `bday-${tag}-${++n}`,
          timezone: w.timezone ?? 'America/New_York',
          birthday_post_time: w.postTime ?? '09:00',
          leap_day_rule: w.leapDayRule ?? 'feb28',
          birthday_message_template: w.template ?? null,
        })
        .returning<{ id: string }[]>('id');
      const id = row!.id;
      const hook = w.webhook === undefined ? slack.webhookUrl() : w.webhook;
      if (hook) await setWorkspaceSlackWebhook(db, id, hook);
      if (w.broken) await markSlackBroken(db, id);
      return { id, hook };
    },
    async birthday(workspaceId, person, dateOfBirth) {
      const [row] = await db('birthdays')
        .insert({ workspace_id: workspaceId, name: person, date_of_birth: dateOfBirth })
        .returning<{ id: string }[]>('id');
      return row!.id;
    },
    post: (workspaceId, localDate) => findBirthdayPost(db, workspaceId, localDate),
    notification,
    async settled(workspaceId, localDate, timeoutMs = 10_000) {
      const final = await waitFor(
        async () => {
          const row = await notification(workspaceId, localDate);
          return row && isFinalNotificationStatus(row.status) ? row : undefined;
        },
        { timeoutMs, what: `the ${localDate} post of ${workspaceId} to settle` },
      );
      return { notification: final, attempts: await listNotificationAttempts(db, workspaceId, final.id) };
    },
    async clear() {
      await db('workspaces').delete();
      slack.reset();
    },
    async close() {
      await Promise.allSettled(dispatchWorkers.map((w) => w.close()));
      await producers.close();
      redis.disconnect();
      await slack.close();
      await privateDb.drop();
    },
  };
}
