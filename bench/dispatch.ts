// Dispatch throughput end to end: N notifications from due reminders (half email through the fake SendGrid, half
// SMS through the fake Twilio, on platform credentials) — the reminder scan (batched inserts, addBulk), real BullMQ
// workers with the dispatch skeleton and every status write — next to a no-op BullMQ worker's rate at the same
// concurrency in the same run (the ceiling). Prints one JSON line: messages per second, its ratio to the ceiling,
// and p50/p95/p99 lateness (provider received − occurrence), and the SQL statements the scan and the dispatch ran per
// notification (a knex 'query' counter; the bench's own progress queries are not counted).
// Usage: npx tsx bench/dispatch.ts [--count=20000] [--concurrency=50]      (at most 50,000)
import { Queue, Worker } from 'bullmq';
import winston from 'winston';
import { getConfig, type Config } from '@nudge/config';
import { closeDb, importClients } from '@nudge/db';
import { createPlatformEmailAdapter } from '@nudge/channels';
import { bullPrefix, createRedis, createWorker, Producers, QUEUES, type Worker as NudgeWorker } from '@nudge/queue';
import { createPrivateDatabase, startFakeSendgrid, startFakeTwilio } from '@nudge/testing';
import { createAdapterResolver } from '../apps/worker/src/dispatch/adapter-resolver';
import { createOutcomeBatcher } from '../apps/worker/src/dispatch/outcome-batcher';
import { dispatchJobsOn } from '../apps/worker/src/dispatch/dispatch-jobs';
import { checkoutJobsOn } from '../apps/worker/src/billing/checkout-jobs';
import { backoffStrategy } from '../apps/worker/src/dispatch/retry-policy';
import { createEmailProcessor } from '../apps/worker/src/processors/email.processor';
import { createTextMessageProcessor } from '../apps/worker/src/processors/text-message.processor';
import { runReminderScan } from '../apps/worker/src/reminders/reminder-scan.service';
import type { TargetPacer } from '../apps/worker/src/dispatch/target-pacer';
import { intOption, percentile, printResult } from './support';

const COUNT = intOption('count', 20_000, 50_000);
const CONCURRENCY = intOption('concurrency', 50, 500);

/** Every client receives one message: per-client pacing has nothing to pace here, so it is left out. */
const noPacing: TargetPacer = {
  acquire: () => Promise.resolve(0),
  restartInterval: () => Promise.resolve(),
  hold: () => Promise.resolve(),
  heldFor: () => Promise.resolve(0),
};

async function ceiling(): Promise<number> {
  const connection = createRedis('worker');
  const queue = new Queue('bench-noop', { connection, prefix: bullPrefix() });
  for (let i = 0; i < COUNT; i += 1000)
    await queue.addBulk(
      Array.from({ length: Math.min(1000, COUNT - i) }, (_, j) => ({ name: 'n', data: { i: i + j } })),
    );
  let done = 0;
  const started = Date.now();
  const finished = new Promise<void>((resolve) => {
    const worker = new Worker('bench-noop', () => Promise.resolve(undefined), {
      connection: createRedis('worker'),
      prefix: bullPrefix(),
      concurrency: CONCURRENCY,
    });
    worker.on('completed', () => {
      if (++done === COUNT) void worker.close().then(() => resolve());
    });
  });
  await finished;
  const rate = COUNT / ((Date.now() - started) / 1000);
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  return rate;
}

async function main(): Promise<void> {
  const [sendgrid, twilio] = await Promise.all([startFakeSendgrid(), startFakeTwilio()]);
  const privateDb = await createPrivateDatabase('nudge_bench_dispatch');
  const { db } = privateDb;
  const base = getConfig();
  const config: Config = {
    ...base,
    usePlatformCredentials: true,
    sendgrid: { ...base.sendgrid, apiKey: sendgrid.apiKey, apiUrl: sendgrid.url },
    twilio: {
      accountSid: twilio.accountSid,
      authToken: twilio.authToken,
      apiUrl: twilio.url,
      smsFrom: '+15550000001',
      whatsappFrom: '+15550000002',
    },
  };
  const logger = winston.createLogger({ silent: true });
  const producers = new Producers();
  const ctx = { config, logger, producers };
  const email = createPlatformEmailAdapter(config);
  const resolver = createAdapterResolver({ db, config, platformEmail: email });
  // As the reminders process records tries: one batcher for every dispatch queue.
  const outcomes = createOutcomeBatcher(db);
  const workers: NudgeWorker[] = [];
  try {
    const [{ id: ws }] = (await db('workspaces').insert({ name: 'bench-dispatch' }).returning('id')) as [
      { id: string },
    ];
    const half = Math.floor(COUNT / 2);
    const rows = Array.from({ length: COUNT }, (_, i) =>
      i < half
        ? { name: `E${i}`, email: `e${i}@example.com`, external_ref: `e${i}` }
        : { name: `S${i}`, phone: `+1415${String(5_000_000 + i).padStart(7, '0')}`, external_ref: `s${i}` },
    );
    for (let i = 0; i < rows.length; i += 2000)
      await db.transaction((trx) => importClients(trx, ws, rows.slice(i, i + 2000), { timezone: 'UTC' }));
    const occurrence = new Date(Date.now() + 3000);
    for (const [channel, prefix] of [
      ['email', 'e'],
      ['sms', 's'],
    ] as const) {
      const [{ id: reminder }] = (await db('reminders')
        .insert({
          workspace_id: ws,
          title: `bench ${channel}`,
          type: 'notification',
          message_template: 'Hello {{client.name}}, {{reminder.title}}',
          channels: [channel],
          schedule: JSON.stringify({ kind: 'once', send_at: occurrence.toISOString() }),
          schedule_kind: 'once',
          send_at: occurrence,
          next_run_at: occurrence,
          created_at: new Date(Date.now() - 86_400_000),
        })
        .returning('id')) as [{ id: string }];
      await db.raw(
        `INSERT INTO reminder_clients (reminder_id, client_id, workspace_id, next_run_at)
         SELECT ?, id, workspace_id, ? FROM clients WHERE workspace_id = ? AND external_ref LIKE ?`,
        [reminder, occurrence, ws, `${prefix}%`],
      );
    }

    const settings = { backoffStrategy: backoffStrategy() };
    const deps = { db, resolver, pacer: noPacing, outcomes };
    const processors = {
      [QUEUES.dispatchEmail]: createEmailProcessor(email, deps),
      [QUEUES.dispatchSms]: createTextMessageProcessor('sms', deps),
    };
    for (const [queue, process] of Object.entries(processors))
      workers.push(
        createWorker(queue as typeof QUEUES.dispatchSms, (job) => process(job as never, ctx) as Promise<unknown>, {
          concurrency: CONCURRENCY,
          settings,
        }),
      );

    let statements = 0;
    let ownStatements = 0;
    db.on('query', () => {
      statements += 1;
    });
    const started = Date.now();
    // The scan claims due occurrences a little ahead and delays each job to its occurrence.
    await runReminderScan(
      {
        db,
        jobs: dispatchJobsOn(producers),
        checkouts: checkoutJobsOn(producers),
        intervalSeconds: 60,
        reclaimAfterSeconds: 120,
        logger,
      },
      new Date(),
    );
    for (;;) {
      ownStatements += 2;
      const [{ open }] = (await db('notifications').whereIn('status', ['queued', 'sending']).count({ open: '*' })) as [
        { open: string },
      ];
      const [{ all }] = (await db('notifications').count({ all: '*' })) as [{ all: string }];
      if (Number(all) >= COUNT && Number(open) === 0) break;
      if (Date.now() - started > 600_000) throw new Error('dispatch did not finish in 10 minutes');
      await new Promise((r) => setTimeout(r, 200));
    }
    // Measured from the occurrence: the jobs wait for it, and the scan ran before.
    const seconds = (Date.now() - Math.max(started, occurrence.getTime())) / 1000;
    const received = [...sendgrid.mails.map((m) => m.at), ...twilio.messages.map((m) => m.at)];
    const lateness = received.map((at) => (at - occurrence.getTime()) / 1000).sort((a, b) => a - b);
    const dispatchStatements = statements - ownStatements;
    const [{ sent }] = (await db('notifications').where({ status: 'sent' }).count({ sent: '*' })) as [{ sent: string }];
    const [{ retried }] = (await db('notification_attempts').where({ outcome: 'retry' }).count({ retried: '*' })) as [
      { retried: string },
    ];
    const [{ unknown }] = (await db('notifications')
      .where({ last_error: 'outcome_unknown' })
      .count({ unknown: '*' })) as [{ unknown: string }];
    for (const w of workers.splice(0)) await w.close();
    const noop = await ceiling();
    const rate = COUNT / seconds;
    const ratio = Number((rate / noop).toFixed(3));
    const p95 = Number(percentile(lateness, 95).toFixed(3));
    printResult({
      bench: 'dispatch',
      count: COUNT,
      concurrency: CONCURRENCY,
      sent: Number(sent),
      outcome_unknown: Number(unknown),
      // Transient failures retried (a provider timeout under load may have been received: sent again).
      retried: Number(retried),
      provider_received: received.length,
      messages_per_second: Math.round(rate),
      noop_ceiling_per_second: Math.round(noop),
      ratio,
      lateness_p50_s: Number(percentile(lateness, 50).toFixed(3)),
      lateness_p95_s: p95,
      lateness_p99_s: Number(percentile(lateness, 99).toFixed(3)),
      sql_statements_per_notification: Number((dispatchStatements / COUNT).toFixed(2)),
      headlines: [
        {
          metric: `${COUNT.toLocaleString('en-US')} notifications dispatched, vs a no-op BullMQ worker`,
          value: Math.round(rate),
          unit: 'msg/s',
          ceiling: Math.round(noop),
          ratio,
          target: '≥ 0.10 of the ceiling',
          meets_target: ratio >= 0.1,
        },
        {
          metric: 'dispatch lateness p95 (provider received − occurrence)',
          value: p95,
          unit: 's',
          ceiling: null,
          ratio: null,
          target: '< 5 s',
          meets_target: p95 < 5,
        },
      ],
    });
  } finally {
    await Promise.allSettled(workers.map((w) => w.close()));
    await outcomes.close();
    await resolver.close();
    await email.close();
    await producers.close();
    await privateDb.drop();
    await Promise.allSettled([sendgrid.close(), twilio.close()]);
    await closeDb();
  }
}

main()
  // A kept-alive socket or a closing worker must not hold a finished bench open.
  .then(() => process.exit(0))
  .catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
