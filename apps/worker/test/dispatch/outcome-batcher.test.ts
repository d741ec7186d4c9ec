// The outcome batcher's promises: writes of jobs finishing together share one statement, each attempt row with its
// notification's move; close() flushes what is waiting; a failed flush fails only the write that really fails,
// leaving its notification as it was for its job to record again; two writes for one notification are both kept.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { getDb, insertNotification, listNotificationAttempts } from '@nudge/db';
import { createOutcomeBatcher, type OutcomeWrite } from '../../src/dispatch/outcome-batcher';

describe('the outcome batcher', function () {
  this.timeout(20_000);
  const db = getDb();
  let ws: string;
  before(async () => {
    [{ id: ws }] = (await db('workspaces')
      .insert({ name: `outcomes-${randomUUID()}` })
      .returning('id')) as [{ id: string }];
  });
  after(async () => db('workspaces').where({ id: ws }).delete());

  /** A notification claimed by a job (`sending`), as one is when its outcome is recorded. */
  async function sending(): Promise<string> {
    const n = await insertNotification(db, ws, {
      kind: 'reminder',
      channel: 'email',
      dedupe_key: `outcomes:${randomUUID()}`,
      body: 'hello',
    });
    await db('notifications').where({ id: n!.id }).update({ status: 'sending' });
    return n!.id;
  }
  const sent = (id: string, attempt = 1): OutcomeWrite => ({
    workspaceId: ws,
    id,
    attempt: { attempt, outcome: 'sent', httpStatus: 202, durationMs: 4 },
    sent: { provider: 'sendgrid', providerMessageId: `m-${id}`, at: new Date() },
  });
  const statusOf = async (id: string) => {
    const row: { status: string; attempts: number; provider_message_id: string | null } | undefined = await db(
      'notifications',
    )
      .where({ id })
      .first('status', 'attempts', 'provider_message_id');
    if (!row) throw new Error(`notification ${id} is missing`);
    return row;
  };
  const outcomesOf = async (id: string) => (await listNotificationAttempts(db, ws, id)).map((a) => a.outcome);

  it('writes the outcomes of jobs finishing together in one statement, each attempt with its status move', async () => {
    const ids = await Promise.all([1, 2, 3, 4, 5].map(() => sending()));
    const batcher = createOutcomeBatcher(db, { maxBatch: 5, maxDelayMs: 60_000 });
    let statements = 0;
    const count = () => {
      statements += 1;
    };
    db.on('query', count);
    try {
      await Promise.all(ids.map((id) => batcher.record(sent(id))));
    } finally {
      db.off('query', count);
    }
    expect(statements).to.equal(1);
    for (const id of ids) {
      expect(await statusOf(id)).to.deep.equal({ status: 'sent', attempts: 1, provider_message_id: `m-${id}` });
      expect(await outcomesOf(id)).to.deep.equal(['sent']);
    }
    await batcher.close();
  });

  it('flushes the writes still waiting when it is closed', async () => {
    const ids = [await sending(), await sending()];
    // Neither the delay nor the batch size would flush them before the test times out.
    const batcher = createOutcomeBatcher(db, { maxBatch: 100, maxDelayMs: 600_000 });
    const written = ids.map((id) => batcher.record(sent(id)));
    await batcher.close();
    await Promise.all(written);
    for (const id of ids) expect((await statusOf(id)).status).to.equal('sent');
  });

  it('writes a record made after close at once', async () => {
    const id = await sending();
    const batcher = createOutcomeBatcher(db, { maxBatch: 100, maxDelayMs: 600_000 });
    await batcher.close();
    await batcher.record(sent(id));
    expect((await statusOf(id)).status).to.equal('sent');
  });

  it('fails only the write that fails, and leaves its notification sending for its job to record again', async () => {
    const [good1, bad, good2] = [await sending(), await sending(), await sending()];
    const batcher = createOutcomeBatcher(db, { maxBatch: 3, maxDelayMs: 60_000 });
    const failing: OutcomeWrite = {
      ...sent(bad),
      follow: () => Promise.reject(new Error('the row that follows cannot be written')),
    };
    const results = await Promise.allSettled([
      batcher.record(sent(good1)),
      batcher.record(failing),
      batcher.record(sent(good2)),
    ]);
    expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
    expect((await statusOf(good1)).status).to.equal('sent');
    expect((await statusOf(good2)).status).to.equal('sent');
    // Neither the attempt row nor the status move of the failed write was kept: nothing half-written.
    expect(await statusOf(bad)).to.deep.equal({ status: 'sending', attempts: 0, provider_message_id: null });
    expect(await outcomesOf(bad)).to.deep.equal([]);

    await batcher.close();

    // The job's next try of the write.
    const again = createOutcomeBatcher(db);
    await again.record(sent(bad));
    expect((await statusOf(bad)).status).to.equal('sent');
    expect(await outcomesOf(bad)).to.deep.equal(['sent']);
    await again.close();
  });

  it('keeps both writes for one notification, in the order they came', async () => {
    const id = await sending();
    const batcher = createOutcomeBatcher(db, { maxBatch: 100, maxDelayMs: 20 });
    const retry: OutcomeWrite = {
      workspaceId: ws,
      id,
      attempt: { attempt: 1, outcome: 'retry', httpStatus: 503, error: 'provider_unavailable', durationMs: 3 },
    };
    await Promise.all([batcher.record(retry), batcher.record(sent(id, 2))]);
    expect(await outcomesOf(id)).to.deep.equal(['retry', 'sent']);
    expect(await statusOf(id)).to.deep.equal({ status: 'sent', attempts: 2, provider_message_id: `m-${id}` });
    await batcher.close();
  });

  it('records nothing for a notification of another workspace', async () => {
    const id = await sending();
    const batcher = createOutcomeBatcher(db);
    await batcher.record({ ...sent(id), workspaceId: randomUUID() });
    expect(await statusOf(id)).to.deep.equal({ status: 'sending', attempts: 0, provider_message_id: null });
    expect(await outcomesOf(id)).to.deep.equal([]);
    await batcher.close();
  });
});
