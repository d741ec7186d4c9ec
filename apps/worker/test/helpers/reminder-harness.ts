// What the reminder suites share: a database of their own (the scan reads every assignment, and other suites share
// the test database), real BullMQ workers on dispatch-email (the sandbox outbox, in a folder of the suite's own, as
// the platform adapter), dispatch-sms and dispatch-whatsapp (the sandbox, or the fake Twilio when the suite passes
// its platform credentials), and helpers that insert workspaces, clients (numbers encrypted as the clients
// repository stores them), reminders and assignments.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { getConfig, type Config } from '@nudge/config';
import winston from 'winston';
import {
  findNotification,
  isFinalNotificationStatus,
  listNotificationAttempts,
  updateClient,
  type Db,
  type NotificationAttemptRow,
  type NotificationRow,
} from '@nudge/db';
import { SandboxEmailAdapter, type EmailAdapter } from '@nudge/channels';
import { createRedis, createWorker, Producers, QUEUES, type Redis, type Worker } from '@nudge/queue';
import { createPrivateDatabase, waitFor } from '@nudge/testing';
import type { WorkerContext } from '../../src/runtime';
import { dispatchJobsOn } from '../../src/dispatch/dispatch-jobs';
import { checkoutJobsOn } from '../../src/billing/checkout-jobs';
import { backoffStrategy } from '../../src/dispatch/retry-policy';
import { createEmailProcessor } from '../../src/processors/email.processor';
import { createTextMessageProcessor } from '../../src/processors/text-message.processor';
import { createAdapterResolver, type AdapterResolver } from '../../src/dispatch/adapter-resolver';
import type { RetryPolicy } from '../../src/dispatch/retry-policy';
import type { TargetPacer } from '../../src/dispatch/target-pacer';
import {
  runReminderScan,
  type ReminderScanDeps,
  type ReminderScanResult,
} from '../../src/reminders/reminder-scan.service';
import { FAST_RETRY } from './birthday-harness';

export interface ClientOptions {
  name?: string;
  email?: string | null;
  phone?: string | null;
  whatsapp?: string | null;
  preferred_channel?: 'email' | 'sms' | 'whatsapp' | null;
  timezone?: string;
  locale?: string | null;
  is_active?: boolean;
  opt_out_email?: boolean;
  opt_out_sms?: boolean;
}

export interface ReminderOptions {
  title?: string;
  /** 'deadline' by default; a 'payment' reminder needs `amount` (minor units) and takes `currency`. */
  type?: 'payment' | 'deadline' | 'notification';
  amount?: number;
  currency?: string;
  message_template?: string;
  subject_template?: string | null;
  channels?: string[];
  schedule?: Record<string, unknown>;
  status?: string;
  created_at?: Date;
}

export interface ReminderHarness {
  db: Db;
  url: string;
  producers: Producers;
  redis: Redis;
  ctx: WorkerContext;
  outbox: SandboxEmailAdapter;
  workers: Worker[];
  resolver: AdapterResolver;
  scanDeps(overrides?: Partial<ReminderScanDeps>): ReminderScanDeps;
  scan(now: Date, overrides?: Partial<ReminderScanDeps>): Promise<ReminderScanResult>;
  workspace(): Promise<string>;
  client(workspaceId: string, opts?: ClientOptions): Promise<string>;
  /** A reminder assigned to the clients, each assignment due at `nextRunAt`. */
  reminder(workspaceId: string, clientIds: string[], nextRunAt: Date | null, opts?: ReminderOptions): Promise<string>;
  notificationsOf(reminderId: string): Promise<NotificationRow[]>;
  settled(
    workspaceId: string,
    id: string,
  ): Promise<{ notification: NotificationRow; attempts: NotificationAttemptRow[] }>;
  /** The mails in the sandbox outbox, as raw RFC 822 text. */
  mails(): Promise<string[]>;
  pauseWorkers(): Promise<void>;
  resumeWorkers(): void;
  close(): Promise<void>;
}

export interface ReminderHarnessOptions {
  /** Config the workers see (the fakes' URLs, platform Twilio credentials, PUBLIC_BASE_URL). */
  config?: Partial<Config>;
  /** The platform email adapter; the sandbox outbox by default. */
  platformEmail?: EmailAdapter;
  /** The pacer of every channel; per-client Redis pacing by default. */
  pacer?: TargetPacer;
  retry?: RetryPolicy;
}

export async function startReminderHarness(opts: ReminderHarnessOptions = {}): Promise<ReminderHarness> {
  const privateDb = await createPrivateDatabase('nudge_rem');
  const { db, url } = privateDb;
  const producers = new Producers();
  const redis = createRedis('client');
  const config: Config = { ...getConfig(), ...opts.config };
  const ctx: WorkerContext = { config, logger: winston.createLogger({ silent: true }), producers };
  const rootDir = await fs.mkdtemp(path.join(os.tmpdir(), 'nudge-rem-'));
  const outbox = new SandboxEmailAdapter({ rootDir, from: 'noreply@nudge.test', isProduction: false });
  const retry = opts.retry ?? FAST_RETRY;
  const settings = { backoffStrategy: backoffStrategy(retry) };
  const resolver = createAdapterResolver({ db, config, platformEmail: opts.platformEmail ?? outbox });
  const deps = { db, retry, resolver, pacer: opts.pacer };
  const email = createEmailProcessor(opts.platformEmail ?? outbox, deps);
  const sms = createTextMessageProcessor('sms', deps);
  const whatsapp = createTextMessageProcessor('whatsapp', deps);
  const workers: Worker[] = [
    createWorker(QUEUES.dispatchEmail, (job) => email(job, ctx), { concurrency: 5, settings }),
    createWorker(QUEUES.dispatchSms, (job) => sms(job, ctx), { concurrency: 5, settings }),
    createWorker(QUEUES.dispatchWhatsapp, (job) => whatsapp(job, ctx), { concurrency: 5, settings }),
  ];
  for (const w of workers) w.on('error', () => undefined);

  const tag = randomBytes(3).toString('hex');
  let n = 0;
  const scanDeps = (overrides: Partial<ReminderScanDeps> = {}): ReminderScanDeps => ({
    db,
    jobs: dispatchJobsOn(producers),
    checkouts: checkoutJobsOn(producers),
    intervalSeconds: 60,
    reclaimAfterSeconds: 120,
    logger: ctx.logger,
    ...overrides,
  });

  return {
    db,
    url,
    producers,
    redis,
    ctx,
    outbox,
    workers,
    resolver,
    scanDeps,
    scan: (now, overrides = {}) => runReminderScan(scanDeps(overrides), now),
    async workspace() {
      const [row] = await db('workspaces')
        .insert({ name: `rem-${tag}-${++n}`, timezone: 'Europe/London' })
        .returning<{ id: string }[]>('id');
      return row!.id;
    },
    async client(workspaceId, c = {}) {
      const i = ++n;
      const [row] = await db('clients')
        .insert({
          workspace_id: workspaceId,
          name: c.name ?? `Client ${i}`,
          email: c.email === undefined ? `client-${tag}-${i}@example.com` : c.email,
          preferred_channel: c.preferred_channel ?? null,
          timezone: c.timezone ?? 'Europe/London',
          locale: c.locale ?? null,
          is_active: c.is_active ?? true,
          opt_out_email: c.opt_out_email ?? false,
          opt_out_sms: c.opt_out_sms ?? false,
        })
        .returning<{ id: string }[]>('id');
      // Numbers are stored as the clients repository stores them: encrypted for the row, with their keyed hash.
      if (c.phone || c.whatsapp)
        await updateClient(db, workspaceId, row!.id, { phone: c.phone ?? null, whatsapp: c.whatsapp ?? null });
      return row!.id;
    },
    async reminder(workspaceId, clientIds, nextRunAt, r = {}) {
      const schedule = r.schedule ?? { kind: 'once', send_at: (nextRunAt ?? new Date()).toISOString() };
      const [row] = await db('reminders')
        .insert({
          workspace_id: workspaceId,
          title: r.title ?? 'Quarterly VAT return',
          type: r.type ?? 'deadline',
          amount: r.amount ?? null,
          currency: r.currency ?? (r.amount ? 'EUR' : null),
          message_template: r.message_template ?? 'Dear {{client.name}}, {{reminder.title}} is due.',
          subject_template: r.subject_template ?? null,
          channels: r.channels ?? ['email'],
          schedule: JSON.stringify(schedule),
          schedule_kind: schedule.kind,
          send_at: schedule.kind === 'once' ? schedule.send_at : null,
          rrule: schedule.rrule ?? null,
          timezone: schedule.timezone ?? null,
          status: r.status ?? 'active',
          next_run_at: nextRunAt,
          created_at: r.created_at ?? new Date(Date.now() - 86400_000),
        })
        .returning<{ id: string }[]>('id');
      const id = row!.id;
      if (clientIds.length)
        await db('reminder_clients').insert(
          clientIds.map((client_id) => ({
            reminder_id: id,
            client_id,
            workspace_id: workspaceId,
            next_run_at: nextRunAt,
          })),
        );
      return id;
    },
    notificationsOf: (reminderId) =>
      db<NotificationRow>('notifications').where({ reminder_id: reminderId }).orderBy('occurrence_at'),
    async settled(workspaceId, id) {
      const final = await waitFor(
        async () => {
          const row = await findNotification(db, workspaceId, id);
          return row && isFinalNotificationStatus(row.status) ? row : undefined;
        },
        { what: `notification ${id} to settle` },
      );
      return { notification: final, attempts: await listNotificationAttempts(db, workspaceId, final.id) };
    },
    async mails() {
      const files = await fs.readdir(outbox.outboxDir).catch(() => [] as string[]);
      return Promise.all(files.map((f) => fs.readFile(path.join(outbox.outboxDir, f), 'utf8')));
    },
    async pauseWorkers() {
      await Promise.all(workers.map((w) => w.pause()));
    },
    resumeWorkers() {
      for (const w of workers) void w.resume();
    },
    async close() {
      await Promise.allSettled(workers.map((w) => w.close()));
      await resolver.close();
      await producers.close();
      redis.disconnect();
      await fs.rm(rootDir, { recursive: true, force: true });
      await privateDb.drop();
    },
  };
}
