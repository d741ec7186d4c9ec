import { expect } from 'chai';
import type { Db } from '@nudge/db';
import { createPrivateDatabase, type PrivateDatabase } from '@nudge/testing';

describe('packages/db migrations', () => {
  let priv: PrivateDatabase;
  let db: Db;
  before(async () => {
    priv = await createPrivateDatabase('nudge_mig');
    db = priv.db;
  });
  after(() => priv.drop());

  it('migrate up, all the way down, and up again', async function () {
    this.timeout(60_000);
    await db.migrate.latest();
    const [, pending] = (await db.migrate.list()) as [unknown[], unknown[]];
    expect(pending).to.have.length(0);
    await db.migrate.rollback(undefined, true);
    const { rows } = await db.raw<{ rows: { table_name: string }[] }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE 'knex_%'");
    expect(rows.map((r) => r.table_name)).to.deep.equal([]);
    await db.migrate.latest();
  });

  describe('the schema', () => {
    it('keeps emails unique regardless of case', async () => {
      await db('users').insert({ email: 'Case@Example.com', password_hash: 'x' });
      let code: string | undefined;
      try {
        await db('users').insert({ email: 'case@example.COM', password_hash: 'x' });
      } catch (err) {
        code = (err as { code?: string }).code;
      }
      expect(code).to.equal('23505');
    });

    it('derives birth_md from the date of birth', async () => {
      const [ws] = await db('workspaces').insert({ name: 'md' }).returning('id');
      const [b] = await db('birthdays').insert({ workspace_id: (ws as { id: string }).id, name: 'A', date_of_birth: '2000-02-29' }).returning('birth_md');
      expect((b as { birth_md: number }).birth_md).to.equal(229);
    });

    it('removes birthdays with their workspace and detaches users from it', async () => {
      const [ws] = await db('workspaces').insert({ name: 'gone' }).returning('id');
      const wsId = (ws as { id: string }).id;
      const [u] = await db('users').insert({ email: 'member@gone.example', password_hash: 'x', workspace_id: wsId, role: 'member' }).returning('id');
      await db('birthdays').insert({ workspace_id: wsId, user_id: (u as { id: string }).id, name: 'M', date_of_birth: '1990-05-05' });
      await db('workspaces').where({ id: wsId }).delete();
      expect(await db('birthdays').where({ workspace_id: wsId })).to.have.length(0);
      const user = (await db('users').where({ id: (u as { id: string }).id }).first()) as { workspace_id: string | null };
      expect(user.workspace_id).to.equal(null);
    });
  });
});
