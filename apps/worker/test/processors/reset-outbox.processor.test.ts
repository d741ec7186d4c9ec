// The reset requests kept in PostgreSQL while Redis was down: once the reminders process runs again, each becomes
// the usual dispatch-email job (the user's id only), and leaves the table.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { getConfig } from '@nudge/config';
import { getLogger } from '@nudge/logger';
import { insertUser, keepPasswordResetRequest, type Db } from '@nudge/db';
import { Producers, QUEUES, jobIdFor, type Job } from '@nudge/queue';
import { createPrivateDatabase, type PrivateDatabase } from '@nudge/testing';
import { createResetOutboxProcessor } from '../../src/processors/reset-outbox.processor';

describe('the password-reset outbox processor (password-reset-outbox queue)', () => {
  // A database of its own: the processor takes every kept request in the table.
  let pdb: PrivateDatabase;
  let db: Db;
  let producers: Producers;

  before(async function () {
    this.timeout(60_000);
    pdb = await createPrivateDatabase('nudge_outbox');
    db = pdb.db;
    producers = new Producers();
  });
  after(async () => {
    await producers.close();
    await pdb.drop();
  });

  it('queues one dispatch-email job per kept request, carrying only the user id, and empties the table', async () => {
    const users = await Promise.all(
      [1, 2].map(
        async () => (await insertUser(db, { email: `ob-${randomUUID()}@example.com`, password_hash: 'x' })).id,
      ),
    );
    for (const id of users) await keepPasswordResetRequest(db, id);
    // A second request for one account while the first waits is the same request.
    await keepPasswordResetRequest(db, users[0] ?? '');
    const kept: { id: string; user_id: string }[] = await db('password_reset_requests').select('id', 'user_id');
    expect(kept).to.have.length(2);

    const process = createResetOutboxProcessor({ db });
    const result = await process({} as Job<Record<string, never>>, {
      config: getConfig(),
      logger: getLogger(),
      producers,
    });
    expect(result).to.deep.equal({ queued: 2 });
    expect(await db('password_reset_requests')).to.deep.equal([]);
    for (const row of kept) {
      const job = await producers.queue(QUEUES.dispatchEmail).getJob(jobIdFor(`reset-request-${row.id}`));
      expect(job?.data).to.deep.equal({ kind: 'password-reset', userId: row.user_id });
      await job?.remove();
    }
  });
});
