import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { birthdayDisplayName, insertUser, type BirthdayRow, type UserRow } from '@nudge/db';
import { hashPassword } from '@nudge/crypto';
import { createApp } from '../../src/index';
import { login, signUp, testDeps, unique, PASSWORD, type Session } from '../helpers';
import { memoryLogger } from '../memory-logger';
import { createPrivateDatabase, type PrivateDatabase } from '@nudge/testing';

// The refresh utility walks every user, and other suites leave rows in the shared test database: exact counts need
// a database of their own.
describe('birthday table utilities', () => {
  let priv: PrivateDatabase;
  let app: Express;
  let root: Session;
  const db = () => priv.db;

  before(async function () {
    this.timeout(60_000);
    priv = await createPrivateDatabase('nudge_bday_utils');
    app = createApp({ ...testDeps(), db: priv.db });
    const email = `${unique('root')}@example.com`;
    await insertUser(priv.db, {
      email,
      password_hash: await hashPassword(PASSWORD, 4),
      is_superuser: true,
      date_of_birth: '1980-01-01',
    });
    root = await login(app, email);
  });
  after(async () => {
    await priv.drop();
  });

  const refresh = async () =>
    (await request(app).post('/utils/refresh-birthday-table').set(root.auth).expect(200)).body as Record<
      string,
      number
    >;
  const backfill = async () =>
    (await request(app).post('/utils/backfill-birthdays').set(root.auth).expect(200)).body as Record<string, number>;
  const rowOf = (userId: string) => db()<BirthdayRow>('birthdays').where({ user_id: userId }).first();

  /** Eight users in one workspace (the owner and seven members) plus a standalone birthday. */
  async function workspace(): Promise<{ ws: string; owner: Session; members: Session[]; standalone: string }> {
    const owner = await signUp(app, { workspace_name: unique('ws'), name: 'Owner' });
    const ws = owner.user.workspace_id as string;
    const members: Session[] = [];
    for (let i = 0; i < 7; i += 1) {
      const inv = await request(app).post(`/workspaces/${ws}/invites`).set(owner.auth).send({}).expect(201);
      members.push(await signUp(app, { invite_token: inv.body.invite_token, name: `Member ${i}` }));
    }
    const standalone = (
      await request(app)
        .post('/birthdays/')
        .set(owner.auth)
        .send({ name: 'Standalone', date_of_birth: '1970-07-07' })
        .expect(201)
    ).body.id as string;
    return { ws, owner, members, standalone };
  }

  /** Issue 5 point 1, over the whole database: a linked row exactly for each user with a workspace and a date of birth. */
  async function expectWholeTableInSync(): Promise<void> {
    const users = await db()<UserRow>('users');
    for (const u of users) {
      const rows = await db()<BirthdayRow>('birthdays').where({ user_id: u.id });
      if (u.workspace_id && u.date_of_birth) {
        expect(rows).to.have.length(1);
        expect(rows[0]).to.include({
          workspace_id: u.workspace_id,
          date_of_birth: u.date_of_birth,
          name: birthdayDisplayName(u),
        });
      } else {
        expect(rows).to.deep.equal([]);
      }
    }
  }

  beforeEach(async () => {
    await refresh();
  });

  describe('POST /utils/refresh-birthday-table', () => {
    it('finds nothing to do after writes made through the API', async () => {
      await workspace();
      expect(await refresh()).to.deep.equal({ count: 0, created: 0, updated: 0, removed: 0 });
    });

    it('creates the missing, re-syncs the changed and removes orphans, counting each, then answers all zeros', async () => {
      const { ws, owner, members, standalone } = await workspace();
      const other = await signUp(app, { workspace_name: unique('ws') });
      const [m0, m1, m2, m3, m4, m5] = members.map((m) => m.user.id) as [
        string,
        string,
        string,
        string,
        string,
        string,
      ];
      const listed = async () =>
        (await request(app).get('/birthdays/').set(owner.auth).expect(200)).body as {
          user_id: string | null;
          name: string;
        }[];
      await listed(); // cached, so the refresh must clear it

      await db()('birthdays').where({ user_id: m0 }).delete(); // missing: created
      await db()('users').where({ id: m1 }).update({ name: 'Renamed Behind' }); // updated
      await db()('users').where({ id: m2 }).update({ date_of_birth: '1966-06-06' }); // updated
      await db()('users').where({ id: m3 }).update({ workspace_id: other.user.workspace_id }); // updated: moved
      await db()('users').where({ id: m4 }).update({ date_of_birth: null }); // orphan: removed
      await db()('users').where({ id: m5 }).update({ workspace_id: null, role: null }); // orphan: removed

      expect(await refresh()).to.deep.equal({ count: 6, created: 1, updated: 3, removed: 2 });
      expect(await refresh()).to.deep.equal({ count: 0, created: 0, updated: 0, removed: 0 });

      await expectWholeTableInSync();
      expect(await rowOf(m0)).to.include({ workspace_id: ws, name: 'Member 0' });
      expect(await rowOf(m1)).to.include({ name: 'Renamed Behind' });
      expect(await rowOf(m2)).to.include({ date_of_birth: '1966-06-06' });
      expect(await rowOf(m3)).to.include({ workspace_id: other.user.workspace_id });
      expect(await db()('birthdays').where({ id: standalone }).first()).to.include({
        name: 'Standalone',
        user_id: null,
      });

      const names = (await listed()).map((b) => b.name);
      expect(names).to.include.members(['Member 0', 'Renamed Behind', 'Standalone']);
      expect(names).to.not.include.members(['Member 3', 'Member 4', 'Member 5']);
    });

    it('never removes a standalone birthday', async () => {
      const { standalone } = await workspace();
      await db()('birthdays').where({ id: standalone }).update({ name: 'Still Standalone' });
      expect(await refresh()).to.deep.equal({ count: 0, created: 0, updated: 0, removed: 0 });
      expect(await db()('birthdays').where({ id: standalone }).first()).to.include({ name: 'Still Standalone' });
    });

    it('is one transaction: a failure part-way changes nothing', async () => {
      const { members } = await workspace();
      const [missing, orphan] = members.map((m) => m.user.id) as [string, string];
      const orphanRow = (await rowOf(orphan)) as BirthdayRow;
      await db()('birthdays').where({ user_id: missing }).delete();
      await db()('users').where({ id: orphan }).update({ date_of_birth: null });
      const fn = unique('refuse_delete');
      await db().raw(
        `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$`,
      );
      await db().raw(
        `CREATE TRIGGER ${fn} BEFORE DELETE ON birthdays FOR EACH ROW WHEN (OLD.id = '${orphanRow.id}') EXECUTE FUNCTION ${fn}()`,
      );
      try {
        const { logger } = memoryLogger();
        await request(createApp({ ...testDeps(), db: priv.db, logger }))
          .post('/utils/refresh-birthday-table')
          .set(root.auth)
          .expect(500);
        expect(await rowOf(missing)).to.equal(undefined);
      } finally {
        await db().raw(`DROP TRIGGER ${fn} ON birthdays`);
        await db().raw(`DROP FUNCTION ${fn}()`);
      }
      expect(await refresh()).to.deep.equal({ count: 2, created: 1, updated: 0, removed: 1 });
    });

    it('answers 403 to an owner and 401 without a token', async () => {
      const { owner } = await workspace();
      await request(app).post('/utils/refresh-birthday-table').set(owner.auth).expect(403);
      await request(app).post('/utils/refresh-birthday-table').expect(401);
    });
  });

  describe('POST /utils/backfill-birthdays', () => {
    it('creates only the missing birthdays, counting them, then answers 0', async () => {
      const { owner, members } = await workspace();
      const [a, b, c] = members.map((m) => m.user.id) as [string, string, string];
      const listed = async () =>
        (await request(app).get('/birthdays/').set(owner.auth).expect(200)).body as {
          user_id: string | null;
          name: string;
        }[];
      await listed();
      await db()('birthdays').whereIn('user_id', [a, b]).delete();
      await db()('users').where({ id: c }).update({ name: 'Not Backfilled' });

      expect(await backfill()).to.deep.equal({ count: 2 });
      expect(await backfill()).to.deep.equal({ count: 0 });
      expect(await rowOf(a)).to.include({ name: 'Member 0' });
      expect(await rowOf(b)).to.include({ name: 'Member 1' });
      expect(await rowOf(c)).to.include({ name: 'Member 2' });
      expect((await listed()).map((r) => r.user_id)).to.include.members([a, b]);

      expect(await refresh()).to.deep.equal({ count: 1, created: 0, updated: 1, removed: 0 });
    });

    it('answers 403 to an owner', async () => {
      const { owner } = await workspace();
      await request(app).post('/utils/backfill-birthdays').set(owner.auth).expect(403);
    });
  });
});
