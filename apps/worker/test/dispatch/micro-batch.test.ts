// Calls of jobs running together gathered into one: one call for the batch, each caller answered with its own
// output, a failing batch run again item by item so only the failing item's caller sees the error; and the batched
// claim, which never gives one notification to two jobs.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { getDb, insertNotification, markNotificationsSending } from '@nudge/db';
import { microBatch } from '../../src/dispatch/micro-batch';

describe('microBatch', () => {
  it('runs the items asked together in one call and answers each caller its own output', async () => {
    const calls: number[][] = [];
    const double = microBatch(
      (items: number[]) => {
        calls.push(items);
        return Promise.resolve(items.map((i) => i * 2));
      },
      { maxBatch: 3, maxDelayMs: 60_000 },
    );
    expect(await Promise.all([double(1), double(2), double(3)])).to.deep.equal([2, 4, 6]);
    expect(calls).to.deep.equal([[1, 2, 3]]);
  });

  it('runs a failing batch again item by item, so only the failing item rejects', async () => {
    const calls: number[][] = [];
    const check = microBatch(
      (items: number[]) => {
        calls.push(items);
        return items.includes(13) ? Promise.reject(new Error('unlucky')) : Promise.resolve(items);
      },
      { maxBatch: 3, maxDelayMs: 60_000 },
    );
    const results = await Promise.allSettled([check(12), check(13), check(14)]);
    expect(results.map((r) => r.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
    expect(calls).to.deep.equal([[12, 13, 14], [12], [13], [14]]);
  });
});

describe('markNotificationsSending', () => {
  const db = getDb();
  let ws: string;
  before(async () => {
    [{ id: ws }] = (await db('workspaces')
      .insert({ name: `claims-${randomUUID()}` })
      .returning('id')) as [{ id: string }];
  });
  after(async () => db('workspaces').where({ id: ws }).delete());

  const queued = async () =>
    (await insertNotification(db, ws, {
      kind: 'reminder',
      channel: 'sms',
      dedupe_key: `claims:${randomUUID()}`,
      body: '',
    }))!.id;

  it('claims only queued notifications of the workspace named, keeping each rendered message', async () => {
    const [a, b, done, other] = [await queued(), await queued(), await queued(), await queued()];
    await db('notifications').where({ id: done }).update({ status: 'sent' });
    const claimed = await markNotificationsSending(db, [
      { workspaceId: ws, id: a, content: { subject: 'Hi', body: 'Hello A' } },
      { workspaceId: ws, id: b },
      { workspaceId: ws, id: done },
      { workspaceId: randomUUID(), id: other },
    ]);
    expect([...claimed].sort()).to.deep.equal([a, b].sort());
    const rows: { id: string; status: string; subject: string | null; body: string }[] = await db('notifications')
      .whereIn('id', [a, b, done, other])
      .select('id', 'status', 'subject', 'body');
    const byId = new Map(rows.map((r) => [r.id, r]));
    expect(byId.get(a)).to.include({ status: 'sending', subject: 'Hi', body: 'Hello A' });
    expect(byId.get(b)).to.include({ status: 'sending', body: '' });
    expect(byId.get(done)).to.include({ status: 'sent' });
    expect(byId.get(other)).to.include({ status: 'queued' });
  });

  it('claims a notification once however often it is named: a second claim finds it taken', async () => {
    const id = await queued();
    expect([
      ...(await markNotificationsSending(db, [
        { workspaceId: ws, id },
        { workspaceId: ws, id },
      ])),
    ]).to.deep.equal([id]);
    expect([...(await markNotificationsSending(db, [{ workspaceId: ws, id }]))]).to.deep.equal([]);
  });
});
