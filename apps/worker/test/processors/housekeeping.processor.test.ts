// The daily prune: what has expired or been spent goes, in batches; what is still live, or still needed, stays.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { getConfig } from '@nudge/config';
import { getLogger } from '@nudge/logger';
import { insertUser, type Db } from '@nudge/db';
import { createWorker, Producers, QUEUES, type Worker } from '@nudge/queue';
import { createPrivateDatabase, waitFor, type PrivateDatabase } from '@nudge/testing';
import { createHousekeepingProcessor } from '../../src/processors/housekeeping.processor';

const DAY = 24 * 3600_000;

describe('the housekeeping processor (housekeeping queue)', () => {
  // A database of its own: the prune sweeps whole tables, and other suites leave expired rows in the shared one.
  let pdb: PrivateDatabase;
  let db: Db;
  const NOW = new Date('2031-06-01T12:00:00Z');
  const past = new Date(NOW.getTime() - DAY);
  const future = new Date(NOW.getTime() + DAY);
  let producers: Producers;
  let worker: Worker;
  let userId: string;
  let workspaceId: string;

  before(async function () {
    this.timeout(60_000);
    pdb = await createPrivateDatabase('nudge_hk');
    db = pdb.db;
    userId = (await insertUser(db, { email: `hk-${randomUUID()}@example.com`, password_hash: 'x' })).id;
    [{ id: workspaceId }] = (await db('workspaces')
      .insert({ name: `hk-${randomUUID()}` })
      .returning('id')) as [{ id: string }];
    producers = new Producers();
    const ctx = { config: getConfig(), logger: getLogger(), producers };
    // A small batch size proves that a backlog larger than one batch is pruned in several rounds.
    const process = createHousekeepingProcessor({ db, clock: () => NOW });
    worker = createWorker(
      QUEUES.housekeeping,
      (job) => process(job, { ...ctx, config: { ...ctx.config, keyRotationBatchSize: 2 } }),
      { concurrency: 1 },
    );
  });
  after(async () => {
    await worker.close();
    await producers.close();
    await pdb.drop();
  });

  it('prunes expired and spent auth rows in batches, keeps live ones and reports how many went', async () => {
    const token = () => randomUUID();
    await db('revoked_tokens').insert([
      ...[1, 2, 3].map(() => ({ jti: token(), user_id: userId, expires_at: past })),
      { jti: token(), user_id: userId, expires_at: future },
    ]);
    await db('password_reset_tokens').insert([
      { user_id: userId, token_hash: token(), expires_at: past, used_at: past },
      { user_id: userId, token_hash: token(), expires_at: future, used_at: past },
      { user_id: userId, token_hash: token(), expires_at: future },
    ]);
    await db('workspace_invites').insert([
      { workspace_id: workspaceId, token_hash: token(), expires_at: past },
      { workspace_id: workspaceId, token_hash: token(), expires_at: future, used_at: past },
      { workspace_id: workspaceId, token_hash: token(), expires_at: future },
    ]);
    const family = randomUUID();
    await db('refresh_tokens').insert([
      { user_id: userId, family_id: family, token_version: 0, token_hash: token(), expires_at: past },
      // Revoked but not expired: reuse detection must still recognise it.
      {
        user_id: userId,
        family_id: family,
        token_version: 0,
        token_hash: token(),
        expires_at: future,
        revoked_at: past,
      },
    ]);

    const queue = producers.queue(QUEUES.housekeeping);
    const job = await queue.add(QUEUES.housekeeping, {});
    const counts = await waitFor(async () => (await queue.getJob(job.id ?? ''))?.returnvalue as unknown, {
      what: 'the housekeeping job to finish',
    });
    expect(counts).to.deep.equal({
      revoked_tokens: 3,
      password_reset_tokens: 2,
      workspace_invites: 2,
      refresh_tokens: 1,
    });

    expect(
      await db('revoked_tokens').where({ user_id: userId }).count<{ count: number }[]>('* as count'),
    ).to.deep.equal([{ count: 1 }]);
    expect(
      await db('password_reset_tokens').where({ user_id: userId }).count<{ count: number }[]>('* as count'),
    ).to.deep.equal([{ count: 1 }]);
    expect(
      await db('workspace_invites').where({ workspace_id: workspaceId }).count<{ count: number }[]>('* as count'),
    ).to.deep.equal([{ count: 1 }]);
    const left = await db('refresh_tokens').where({ user_id: userId }).select('revoked_at');
    expect(left).to.have.length(1);
    expect(left[0]?.revoked_at).to.not.equal(null);
  });
});
