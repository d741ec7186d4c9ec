import { expect } from 'chai';
import request from 'supertest';
import { birthdayDisplayName, type BirthdayRow, type UserRow } from '@nudge/db';
import type { Express } from 'express';
import { createApp } from '../../src/index';
import { testApp, testDeps, signUp, superuser, team, unique, PASSWORD, type Session } from '../helpers';
import { memoryLogger, type LogLine } from '../memory-logger';

const app = () => testApp();
const db = () => testDeps().db;

async function rowOf(userId: string): Promise<BirthdayRow | undefined> {
  return db()<BirthdayRow>('birthdays').where({ user_id: userId }).first();
}

async function userRow(userId: string): Promise<UserRow> {
  return (await db()<UserRow>('users').where({ id: userId }).first()) as UserRow;
}

/** The invariant of issue 5 point 1, for these users: a row exactly when workspace and date of birth, matching both. */
async function expectInSync(userIds: string[]): Promise<void> {
  for (const id of userIds) {
    const user = await db()<UserRow>('users').where({ id }).first();
    const rows = await db()<BirthdayRow>('birthdays').where({ user_id: id });
    if (!user || !user.workspace_id || !user.date_of_birth) {
      expect(rows, `user ${id} should have no birthday`).to.deep.equal([]);
      continue;
    }
    expect(rows, `user ${id} should have one birthday`).to.have.length(1);
    expect(rows[0]).to.include({
      workspace_id: user.workspace_id,
      date_of_birth: user.date_of_birth,
      name: birthdayDisplayName(user),
    });
    expect(rows[0]?.name).to.not.contain('@');
  }
}

async function register(body: Record<string, unknown>): Promise<{ id: string; email: string }> {
  const email = `${unique('reg')}@example.com`;
  const res = await request(app())
    .post('/auth/register')
    .send({ email, password: PASSWORD, date_of_birth: '1991-06-15', ...body })
    .expect(201);
  return { id: res.body.id as string, email };
}

describe('birthday rows follow their user', () => {
  describe('registration', () => {
    it('creates the row of a user who founds a workspace, named by the part of the email before the @ when they gave no name', async () => {
      const { id, email } = await register({ workspace_name: unique('ws') });
      const user = await userRow(id);
      const row = await rowOf(id);
      expect(row).to.include({
        workspace_id: user.workspace_id,
        date_of_birth: '1991-06-15',
        name: email.split('@')[0],
      });
      expect(row?.name).to.not.contain('@');
    });

    it("creates the row of a user who joins by invite, with the user's name", async () => {
      const owner = await signUp(app(), { workspace_name: unique('ws') });
      const inv = await request(app())
        .post(`/workspaces/${owner.user.workspace_id}/invites`)
        .set(owner.auth)
        .send({})
        .expect(201);
      const { id } = await register({ invite_token: inv.body.invite_token, name: 'Grace Hopper' });
      expect(await rowOf(id)).to.include({
        workspace_id: owner.user.workspace_id,
        name: 'Grace Hopper',
        date_of_birth: '1991-06-15',
      });
      await expectInSync([owner.user.id, id]);
    });

    it('gives no row to a user who registers without a workspace', async () => {
      const { id } = await register({ name: 'Loner' });
      expect(await rowOf(id)).to.equal(undefined);
    });
  });

  describe('user writes', () => {
    let t: Awaited<ReturnType<typeof team>>;
    beforeEach(async () => {
      t = await team(app());
    });

    it('follows PATCH /users/me of the date of birth and the name', async () => {
      await request(app())
        .patch('/users/me')
        .set(t.member.auth)
        .send({ name: 'Ada Lovelace', date_of_birth: '1985-12-10' })
        .expect(200);
      expect(await rowOf(t.member.user.id)).to.include({
        name: 'Ada Lovelace',
        date_of_birth: '1985-12-10',
        workspace_id: t.workspaceId,
      });
    });

    it("falls back to the email's local part, never the whole address, when the name is cleared", async () => {
      await request(app()).patch('/users/me').set(t.member.auth).send({ name: 'Temporary' }).expect(200);
      await request(app()).patch('/users/me').set(t.member.auth).send({ name: null }).expect(200);
      expect((await rowOf(t.member.user.id))?.name).to.equal(t.member.user.email.split('@')[0]);
    });

    it('removes the row when the date of birth is cleared, and brings it back when it is set again', async () => {
      await request(app()).patch('/users/me').set(t.member.auth).send({ date_of_birth: null }).expect(200);
      expect(await rowOf(t.member.user.id)).to.equal(undefined);
      await request(app()).patch('/users/me').set(t.member.auth).send({ date_of_birth: '1970-01-01' }).expect(200);
      expect(await rowOf(t.member.user.id)).to.include({ date_of_birth: '1970-01-01', workspace_id: t.workspaceId });
    });

    it('follows PATCH /users/{id} by an owner', async () => {
      await request(app())
        .patch(`/users/${t.member.user.id}`)
        .set(t.owner.auth)
        .send({ name: 'Renamed', date_of_birth: '1999-09-09' })
        .expect(200);
      expect(await rowOf(t.member.user.id)).to.include({ name: 'Renamed', date_of_birth: '1999-09-09' });
    });

    it('moves the row with the user when the platform admin moves them to another workspace', async () => {
      const root = await superuser(app());
      const other = await signUp(app(), { workspace_name: unique('ws') });
      await request(app())
        .patch(`/users/${t.member.user.id}`)
        .set(root.auth)
        .send({ workspace_id: other.user.workspace_id })
        .expect(200);
      expect(await rowOf(t.member.user.id)).to.include({ workspace_id: other.user.workspace_id });
      await expectInSync([t.member.user.id]);
    });

    it('removes the row when the platform admin takes the user out of their workspace', async () => {
      const root = await superuser(app());
      await request(app()).patch(`/users/${t.member.user.id}`).set(root.auth).send({ workspace_id: null }).expect(200);
      expect(await rowOf(t.member.user.id)).to.equal(undefined);
      expect((await userRow(t.member.user.id)).date_of_birth).to.equal('1990-04-02');
    });

    it('deletes the row with the user', async () => {
      await request(app()).delete(`/users/${t.member.user.id}`).set(t.owner.auth).expect(204);
      expect(await rowOf(t.member.user.id)).to.equal(undefined);
    });

    it('removes every row of a deleted workspace, standalone ones too, and keeps its users without a workspace', async () => {
      await request(app())
        .post('/birthdays/')
        .set(t.owner.auth)
        .send({ name: 'Standalone', date_of_birth: '1980-05-05' })
        .expect(201);
      await request(app()).delete(`/workspaces/${t.workspaceId}`).set(t.owner.auth).expect(204);
      expect(await db()('birthdays').where({ workspace_id: t.workspaceId })).to.deep.equal([]);
      for (const s of [t.owner, t.admin, t.member]) {
        expect(await userRow(s.user.id)).to.include({ workspace_id: null, date_of_birth: '1990-04-02' });
        expect(await rowOf(s.user.id)).to.equal(undefined);
      }
    });

    it('leaves no orphan and no missing row after a series of writes', async () => {
      const root = await superuser(app());
      const users: Session[] = [t.owner, t.admin, t.member];
      await request(app()).patch('/users/me').set(t.admin.auth).send({ name: 'A' }).expect(200);
      await request(app()).patch(`/users/${t.member.user.id}`).set(root.auth).send({ workspace_id: null }).expect(200);
      await request(app())
        .patch(`/users/${t.member.user.id}`)
        .set(root.auth)
        .send({ workspace_id: t.workspaceId })
        .expect(200);
      await request(app()).patch('/users/me').set(t.owner.auth).send({ date_of_birth: null }).expect(200);
      await expectInSync(users.map((s) => s.user.id));
      expect(await rowOf(t.member.user.id)).to.include({ workspace_id: t.workspaceId });
      expect(await rowOf(t.owner.user.id)).to.equal(undefined);
    });
  });

  describe('transactions', () => {
    const fn = unique('fail_birthday_write');
    const poison = unique('Poison');
    const undeletable = unique('Undeletable');
    let local: Express;
    let lines: LogLine[];
    before(async () => {
      // Its own logger keeps the expected 500s off the console, and shows that they were logged as errors.
      const mem = memoryLogger();
      lines = mem.lines;
      local = createApp({ ...testDeps(), logger: mem.logger });
      // A birthday write that fails must take the user write with it: both are one transaction.
      await db().raw(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF (TG_OP = 'DELETE' AND OLD.name = '${undeletable}') OR (TG_OP <> 'DELETE' AND NEW.name = '${poison}') THEN
            RAISE EXCEPTION 'birthday write refused by the test';
          END IF;
          RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END $$`);
      await db().raw(
        `CREATE TRIGGER ${fn} BEFORE INSERT OR UPDATE OR DELETE ON birthdays FOR EACH ROW EXECUTE FUNCTION ${fn}()`,
      );
    });
    after(async () => {
      await db().raw(`DROP TRIGGER IF EXISTS ${fn} ON birthdays`);
      await db().raw(`DROP FUNCTION IF EXISTS ${fn}()`);
    });

    it('rolls back a user change whose birthday write fails', async () => {
      const s = await signUp(app(), { workspace_name: unique('ws'), name: 'Before' });
      await request(local)
        .patch('/users/me')
        .set(s.auth)
        .send({ name: poison, date_of_birth: '1977-07-07' })
        .expect(500);
      expect(lines.some((l) => l.level === 'error' && /PATCH \/users\/me failed/.test(l.message))).to.equal(true);
      expect(await userRow(s.user.id)).to.include({ name: 'Before', date_of_birth: '1990-04-02' });
      expect(await rowOf(s.user.id)).to.include({ name: 'Before', date_of_birth: '1990-04-02' });
    });

    it('rolls back a registration whose birthday write fails', async () => {
      const email = `${unique('reg')}@example.com`;
      await request(local)
        .post('/auth/register')
        .send({ email, password: PASSWORD, date_of_birth: '1991-06-15', name: poison, workspace_name: unique('ws') })
        .expect(500);
      expect(await db()('users').whereRaw('lower(email) = lower(?)', [email]).first()).to.equal(undefined);
    });

    it("keeps the user's date of birth when deleting their birthday fails", async () => {
      const owner = await signUp(app(), { workspace_name: unique('ws'), name: undeletable });
      const row = (await rowOf(owner.user.id)) as BirthdayRow;
      await request(local).delete(`/birthdays/${row.id}`).set(owner.auth).expect(500);
      expect((await userRow(owner.user.id)).date_of_birth).to.equal('1990-04-02');
      expect(await rowOf(owner.user.id)).to.not.equal(undefined);
    });
  });
});
