// The dispatch path's batched statements are named prepared statements: parsed and planned once per connection.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import {
  getDb,
  findReminderDispatches,
  insertNotification,
  markNotificationsSending,
  recordNotificationAttempts,
  PREPARED,
  type Conn,
} from '@nudge/db';

describe('the prepared dispatch statements', () => {
  const shared = getDb();
  let ws: string;
  before(async () => {
    [{ id: ws }] = (await shared('workspaces')
      .insert({ name: `prepared-${randomUUID()}` })
      .returning('id')) as [{ id: string }];
  });
  after(async () => shared('workspaces').where({ id: ws }).delete());

  const add = async (db: Conn) =>
    (await insertNotification(db, ws, {
      kind: 'reminder',
      channel: 'email',
      dedupe_key: `p:${randomUUID()}`,
      body: 'x',
    }))!.id;

  it('names the claim, the load and the outcome, and runs each twice under one name', async () => {
    // One transaction is one connection: the statements it prepares are the ones its session lists.
    const names = await shared.transaction(async (db) => {
      for (let round = 0; round < 2; round++) {
        const [a, b] = [await add(db), await add(db)];
        expect((await findReminderDispatches(db, [a, b])).size).to.equal(2);
        expect([...(await markNotificationsSending(db, [{ workspaceId: ws, id: a }]))]).to.deep.equal([a]);
        await recordNotificationAttempts(db, [
          { workspaceId: ws, id: a, attempt: { attempt: 1, outcome: 'sent', durationMs: 1 } },
        ]);
        expect((await db('notifications').where({ id: a }).first()).status).to.equal('sent');
      }
      return (await db('pg_prepared_statements').select('name')).map((r: { name: string }) => r.name);
    });
    expect(names).to.include.members(Object.values(PREPARED));
  });
});
