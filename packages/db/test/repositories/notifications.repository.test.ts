// How each try's outcome moves a notification on (recordNotificationAttempt), the widened outcomes included.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { getDb, insertNotification, listNotificationAttempts, recordNotificationAttempt } from '@nudge/db';

describe('recordNotificationAttempt', () => {
  const db = getDb();
  let ws: string;
  before(async () => {
    [{ id: ws }] = (await db('workspaces')
      .insert({ name: `notif-${randomUUID()}` })
      .returning('id')) as [{ id: string }];
  });
  after(async () => db('workspaces').where({ id: ws }).delete());

  const cases = [
    ['sent', 'sent'],
    ['retry', 'queued'],
    ['failed', 'failed'],
    ['undeliverable', 'undeliverable'],
    ['cancelled', 'cancelled'],
    ['unknown', 'failed'],
  ] as const;
  for (const [outcome, status] of cases) {
    it(`records an attempt ${outcome} and leaves the notification ${status}`, async () => {
      const n = await insertNotification(db, ws, {
        kind: 'reminder',
        channel: 'sms',
        dedupe_key: `t:${randomUUID()}`,
        body: 'x',
      });
      await db('notifications').where({ id: n!.id }).update({ status: 'sending' });
      const error = outcome === 'sent' ? undefined : `${outcome}_reason`;
      await recordNotificationAttempt(db, ws, n!.id, { attempt: 1, outcome, error, durationMs: 3 });
      const row = (await db('notifications').where({ id: n!.id }).first()) as { status: string; last_error: unknown };
      expect(row).to.include({ status, last_error: error ?? null });
      expect((await listNotificationAttempts(db, ws, n!.id)).map((a) => a.outcome)).to.deep.equal([outcome]);
    });
  }
});
