// The dashboard's per-day rollup as the reminders process runs it: the whole days before today counted per
// workspace, channel, status and failure reason, and the run reported.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { getConfig } from '@nudge/config';
import { getLogger } from '@nudge/logger';
import type { Db } from '@nudge/db';
import { Producers, type Job } from '@nudge/queue';
import { createPrivateDatabase, type PrivateDatabase } from '@nudge/testing';
import { createDashboardRollupProcessor } from '../../src/processors/dashboard-rollup.processor';

const DAY = 86400_000;

describe('the dashboard rollup processor (dashboard-rollup queue)', () => {
  // A database of its own: a run covers every workspace, and the rollup's state is one row.
  let pdb: PrivateDatabase;
  let db: Db;
  let producers: Producers;

  before(async function () {
    this.timeout(60_000);
    pdb = await createPrivateDatabase('nudge_rollup');
    db = pdb.db;
    producers = new Producers();
  });
  after(async () => {
    await producers.close();
    await pdb.drop();
  });

  it('counts the days before today per channel, status and failure reason, and leaves today to the live rows', async () => {
    const [{ id: ws }] = (await db('workspaces')
      .insert({ name: `rollup-${randomUUID()}` })
      .returning('id')) as [{ id: string }];
    const today = Math.floor(Date.now() / DAY) * DAY;
    const n = (channel: string, status: string, created: number, last_error: string | null = null) => ({
      workspace_id: ws,
      kind: 'reminder',
      channel,
      status,
      last_error,
      dedupe_key: `rollup:${randomUUID()}`,
      created_at: new Date(created),
    });
    await db('notifications').insert([
      n('email', 'delivered', today - 2 * DAY + 1000),
      n('email', 'delivered', today - DAY - 1),
      n('sms', 'failed', today - DAY + 5000, 'invalid_number'),
      n('sms', 'bounced', today - DAY + 6000),
      n('sms', 'cancelled', today - DAY + 7000, 'opted_out'),
      n('email', 'queued', today + 1000),
    ]);
    const process = createDashboardRollupProcessor({ db });
    const run = await process({} as Job<Record<string, never>>, {
      config: getConfig(),
      logger: getLogger(),
      producers,
    });
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    expect(run).to.deep.equal({ covered_until: day(today), recounted: 2, caught_up: true, skipped: false });
    const rows = await db('notification_daily_counts')
      .where({ workspace_id: ws })
      .orderBy(['day', 'channel', 'status'])
      .select('day', 'channel', 'status', 'failure_reason', 'count');
    expect(rows).to.deep.equal([
      { day: day(today - 2 * DAY), channel: 'email', status: 'delivered', failure_reason: null, count: 2 },
      { day: day(today - DAY), channel: 'sms', status: 'bounced', failure_reason: 'unknown', count: 1 },
      { day: day(today - DAY), channel: 'sms', status: 'cancelled', failure_reason: null, count: 1 },
      { day: day(today - DAY), channel: 'sms', status: 'failed', failure_reason: 'invalid_number', count: 1 },
    ]);
  });
});
