// Users (issue 3, points 7 and 9): the caller's own profile, the listings, and who may change or delete whom. Every
// refusal is checked against the row itself, so a 403 that still wrote something fails.
import { expect } from 'chai';
import request from 'supertest';
import { findUserById, type UserRow } from '@nudge/db';
import { testApp, testDeps, signUp, login, team, superuser, unique, PASSWORD, type Session } from '../helpers';

const app = () => testApp();
const db = () => testDeps().db;

async function rowOf(id: string): Promise<UserRow> {
  const row = await findUserById(db(), id);
  if (!row) throw new Error(`no user ${id}`);
  return row;
}

const birthdayOf = (userId: string) =>
  db()('birthdays')
    .where({ user_id: userId })
    .first<{ workspace_id: string; name: string; date_of_birth: string } | undefined>();

const patchUser = (who: Session, id: string, body: object) =>
  request(app()).patch(`/users/${id}`).set(who.auth).send(body);

describe('GET /users/me', () => {
  it('answers the caller, without a hash or the token version', async () => {
    const s = await signUp(app(), { name: 'Ada', date_of_birth: '1991-02-03' });
    const res = await request(app()).get('/users/me').set(s.auth).expect(200);
    expect(res.body).to.include({
      id: s.user.id,
      email: s.user.email,
      name: 'Ada',
      date_of_birth: '1991-02-03',
      workspace_id: null,
      role: null,
    });
    expect(res.body).to.have.all.keys(
      'id',
      'email',
      'name',
      'date_of_birth',
      'timezone',
      'workspace_id',
      'role',
      'is_active',
      'is_superuser',
      'is_verified',
      'created_at',
      'updated_at',
    );
  });

  it('answers 401 without a token', async () => {
    await request(app()).get('/users/me').expect(401);
  });
});

describe('PATCH /users/me', () => {
  it('changes the name, date of birth and timezone, and the birthday row follows', async () => {
    const s = await signUp(app(), { workspace_name: unique('Me') });
    const res = await request(app())
      .patch('/users/me')
      .set(s.auth)
      .send({ name: 'Grace', date_of_birth: '1985-12-09', timezone: 'Europe/Paris' })
      .expect(200);
    expect(res.body).to.include({ name: 'Grace', date_of_birth: '1985-12-09', timezone: 'Europe/Paris' });
    expect((await request(app()).get('/users/me').set(s.auth).expect(200)).body).to.include({
      name: 'Grace',
      timezone: 'Europe/Paris',
    });
    expect(await birthdayOf(s.user.id)).to.include({ name: 'Grace', date_of_birth: '1985-12-09' });
  });

  for (const field of ['email', 'password'] as const) {
    it(`answers 422 naming current_password for a new ${field} without it, and changes nothing`, async () => {
      const s = await signUp(app());
      const value = field === 'email' ? `${unique()}@example.com` : 'a-new-password-1';
      const res = await request(app())
        .patch('/users/me')
        .set(s.auth)
        .send({ [field]: value })
        .expect(422);
      expect(res.body.code).to.equal('VALIDATION_ERROR');
      expect(res.body.detail).to.have.length(1);
      expect(res.body.detail[0]).to.deep.include({ loc: ['body', 'current_password'], type: 'any.required' });
      expect(res.body.detail[0].msg).to.contain('current_password');
      expect((await rowOf(s.user.id)).email).to.equal(s.user.email);
      await login(app(), s.user.email, PASSWORD);
    });

    it(`answers 400 UPDATE_USER_INVALID_PASSWORD for a new ${field} with a wrong current_password, and changes nothing`, async () => {
      const s = await signUp(app());
      const value = field === 'email' ? `${unique()}@example.com` : 'a-new-password-1';
      const res = await request(app())
        .patch('/users/me')
        .set(s.auth)
        .send({ [field]: value, current_password: 'not-my-password' })
        .expect(400);
      expect(res.body).to.deep.equal({ detail: 'UPDATE_USER_INVALID_PASSWORD', code: 'UPDATE_USER_INVALID_PASSWORD' });
      expect((await rowOf(s.user.id)).email).to.equal(s.user.email);
      await login(app(), s.user.email, PASSWORD);
    });
  }

  it('changes the email with the right current_password, and the new email signs in', async () => {
    const s = await signUp(app());
    const email = `${unique()}@example.com`;
    const res = await request(app())
      .patch('/users/me')
      .set(s.auth)
      .send({ email, current_password: PASSWORD })
      .expect(200);
    expect(res.body.email).to.equal(email);
    await login(app(), email);
    await request(app()).post('/auth/jwt/login').send({ username: s.user.email, password: PASSWORD }).expect(400);
  });

  it('answers 400 UPDATE_USER_EMAIL_ALREADY_EXISTS for a taken email in any case', async () => {
    const s = await signUp(app());
    const other = await signUp(app());
    const res = await request(app())
      .patch('/users/me')
      .set(s.auth)
      .send({ email: other.user.email.toUpperCase(), current_password: PASSWORD })
      .expect(400);
    expect(res.body).to.deep.equal({
      detail: 'UPDATE_USER_EMAIL_ALREADY_EXISTS',
      code: 'UPDATE_USER_EMAIL_ALREADY_EXISTS',
    });
    expect((await rowOf(s.user.id)).email).to.equal(s.user.email);
  });

  it('validates the timezone by exact case and echoes it back as sent', async () => {
    const s = await signUp(app());
    const bad = await request(app()).patch('/users/me').set(s.auth).send({ timezone: 'utc' }).expect(422);
    expect(bad.body.detail[0]).to.include({ type: 'timezone.unknown' });
    expect(bad.body.detail[0].loc).to.deep.equal(['body', 'timezone']);
    for (const tz of ['UTC', 'Asia/Kolkata']) {
      expect(
        (await request(app()).patch('/users/me').set(s.auth).send({ timezone: tz }).expect(200)).body.timezone,
      ).to.equal(tz);
      expect((await request(app()).get('/users/me').set(s.auth).expect(200)).body.timezone).to.equal(tz);
    }
  });
});

describe('GET /users/', () => {
  it("lists the caller's workspace and nobody else", async () => {
    const t = await team(app());
    const other = await team(app());
    const ids = ((await request(app()).get('/users/').set(t.member.auth).expect(200)).body as { id: string }[]).map(
      (u) => u.id,
    );
    expect(ids).to.have.members([t.owner.user.id, t.admin.user.id, t.member.user.id]);
    expect(ids).to.not.include(other.member.user.id);
  });

  it('answers /users and /users/ with the same body and no redirect', async () => {
    const t = await team(app());
    const slash = await request(app()).get('/users/').set(t.owner.auth).redirects(0);
    const bare = await request(app()).get('/users').set(t.owner.auth).redirects(0);
    expect(slash.status).to.equal(200);
    expect(bare.status).to.equal(200);
    expect(bare.body).to.deep.equal(slash.body);
    expect(slash.body).to.have.length(3);
  });

  it('shows a change made through PATCH at once, cache or not', async () => {
    const t = await team(app());
    await request(app()).get('/users/').set(t.owner.auth).expect(200);
    await patchUser(t.owner, t.member.user.id, { name: 'Renamed' }).expect(200);
    const listed = (
      (await request(app()).get('/users/').set(t.owner.auth).expect(200)).body as { id: string; name: string }[]
    ).find((u) => u.id === t.member.user.id);
    expect(listed?.name).to.equal('Renamed');
  });
});

describe('GET /users/all', () => {
  it("lists every workspace's users for the platform admin", async () => {
    const a = await team(app());
    const b = await team(app());
    const root = await superuser(app());
    const ids = ((await request(app()).get('/users/all').set(root.auth).expect(200)).body as { id: string }[]).map(
      (u) => u.id,
    );
    expect(ids).to.include.members([a.owner.user.id, b.member.user.id, root.user.id]);
  });

  it('answers 403 to a workspace owner', async () => {
    const t = await team(app());
    const res = await request(app()).get('/users/all').set(t.owner.auth).expect(403);
    expect(res.body.code).to.equal('FORBIDDEN');
  });
});

describe('GET /users/{id}', () => {
  it("answers a user of the same workspace, 404 for another workspace's, and any user to the platform admin", async () => {
    const a = await team(app());
    const b = await team(app());
    const root = await superuser(app());
    expect((await request(app()).get(`/users/${a.owner.user.id}`).set(a.member.auth).expect(200)).body.email).to.equal(
      a.owner.user.email,
    );
    await request(app()).get(`/users/${b.owner.user.id}`).set(a.owner.auth).expect(404);
    expect((await request(app()).get(`/users/${b.member.user.id}`).set(root.auth).expect(200)).body.id).to.equal(
      b.member.user.id,
    );
  });
});

describe('PATCH /users/{id}', () => {
  describe('as the platform admin', () => {
    it('changes any field of any user', async () => {
      const t = await team(app());
      const root = await superuser(app());
      const before = await rowOf(t.member.user.id);
      const email = `${unique()}@example.com`;
      const body = {
        name: 'Changed',
        date_of_birth: '1970-07-07',
        timezone: 'Asia/Tokyo',
        email,
        password: 'a-brand-new-pass',
        role: 'admin',
        is_verified: true,
        is_superuser: true,
      };
      const res = await patchUser(root, t.member.user.id, body).expect(200);
      expect(res.body).to.include({
        name: 'Changed',
        date_of_birth: '1970-07-07',
        timezone: 'Asia/Tokyo',
        email,
        role: 'admin',
        is_verified: true,
        is_superuser: true,
        is_active: true,
      });
      const after = await rowOf(t.member.user.id);
      expect(after.token_version).to.equal(before.token_version + 1);
      await request(app()).get('/users/me').set(t.member.auth).expect(401);
      await login(app(), email, 'a-brand-new-pass');
      expect(await birthdayOf(t.member.user.id)).to.include({ name: 'Changed', date_of_birth: '1970-07-07' });
      await patchUser(root, t.member.user.id, { is_active: false }).expect(200);
      expect((await rowOf(t.member.user.id)).is_active).to.equal(false);
    });

    it('moves a user to another workspace as a member, and their birthday row moves with them', async () => {
      const a = await team(app());
      const b = await team(app());
      const root = await superuser(app());
      await request(app()).get('/users/').set(a.owner.auth).expect(200);
      await request(app()).get('/users/').set(b.owner.auth).expect(200);
      const res = await patchUser(root, a.admin.user.id, { workspace_id: b.workspaceId }).expect(200);
      expect(res.body).to.include({ workspace_id: b.workspaceId, role: 'member' });
      expect((await birthdayOf(a.admin.user.id))?.workspace_id).to.equal(b.workspaceId);
      const inA = ((await request(app()).get('/users/').set(a.owner.auth).expect(200)).body as { id: string }[]).map(
        (u) => u.id,
      );
      const inB = ((await request(app()).get('/users/').set(b.owner.auth).expect(200)).body as { id: string }[]).map(
        (u) => u.id,
      );
      expect(inA).to.not.include(a.admin.user.id);
      expect(inB).to.include(a.admin.user.id);
      // The moved user now sees their new workspace's rows only.
      await request(app()).get(`/users/${b.owner.user.id}`).set(a.admin.auth).expect(200);
      await request(app()).get(`/users/${a.owner.user.id}`).set(a.admin.auth).expect(404);
    });

    it('takes a user out of every workspace with workspace_id null: no role, no birthday row', async () => {
      const t = await team(app());
      const root = await superuser(app());
      const res = await patchUser(root, t.member.user.id, { workspace_id: null }).expect(200);
      expect(res.body).to.include({ workspace_id: null, role: null });
      expect(await birthdayOf(t.member.user.id)).to.equal(undefined);
    });

    it('answers 422 for a workspace that does not exist, or a role without a workspace, and changes nothing', async () => {
      const t = await team(app());
      const loner = await signUp(app());
      const root = await superuser(app());
      const res = await patchUser(root, t.member.user.id, {
        workspace_id: '00000000-0000-4000-8000-000000000000',
      }).expect(422);
      expect(res.body.detail[0].loc).to.deep.equal(['body', 'workspace_id']);
      const roleless = await patchUser(root, loner.user.id, { role: 'admin' }).expect(422);
      expect(roleless.body.detail[0].loc).to.deep.equal(['body', 'role']);
      await patchUser(root, t.member.user.id, { role: null }).expect(422);
      expect(await rowOf(t.member.user.id)).to.include({ workspace_id: t.workspaceId, role: 'member' });
      expect((await rowOf(loner.user.id)).role).to.equal(null);
    });

    it("answers 403 for token_version, which is the server's alone", async () => {
      const t = await team(app());
      const root = await superuser(app());
      const before = await rowOf(t.member.user.id);
      await patchUser(root, t.member.user.id, { token_version: 42 }).expect(403);
      expect((await rowOf(t.member.user.id)).token_version).to.equal(before.token_version);
    });
  });

  describe("as a workspace's owner or admin", () => {
    it("changes a member's profile fields, role and activity", async () => {
      const t = await team(app());
      const res = await patchUser(t.owner, t.member.user.id, {
        name: 'Bob',
        date_of_birth: '1999-09-09',
        timezone: 'Europe/Berlin',
        role: 'admin',
      }).expect(200);
      expect(res.body).to.include({
        name: 'Bob',
        date_of_birth: '1999-09-09',
        timezone: 'Europe/Berlin',
        role: 'admin',
      });
      expect(await birthdayOf(t.member.user.id)).to.include({ name: 'Bob', date_of_birth: '1999-09-09' });
      await patchUser(t.admin, t.member.user.id, { name: 'Robert', role: 'member' }).expect(200);
      await patchUser(t.admin, t.member.user.id, { is_active: false }).expect(200);
      expect(await rowOf(t.member.user.id)).to.include({ name: 'Robert', role: 'member', is_active: false });
      await patchUser(t.admin, t.member.user.id, { is_active: true }).expect(200);
      expect((await rowOf(t.member.user.id)).is_active).to.equal(true);
    });

    it('lets only an owner grant or remove owner, and an admin not touch an owner at all', async () => {
      const t = await team(app());
      const grant = await patchUser(t.admin, t.member.user.id, { role: 'owner' }).expect(403);
      expect(grant.body.code).to.equal('FORBIDDEN');
      expect((await rowOf(t.member.user.id)).role).to.equal('member');
      await patchUser(t.admin, t.owner.user.id, { role: 'member' }).expect(403);
      await patchUser(t.admin, t.owner.user.id, { name: 'Not yours' }).expect(403);
      await patchUser(t.admin, t.owner.user.id, { is_active: false }).expect(403);
      expect(await rowOf(t.owner.user.id)).to.include({ role: 'owner', is_active: true });
      expect((await rowOf(t.owner.user.id)).name).to.not.equal('Not yours');

      await patchUser(t.owner, t.member.user.id, { role: 'owner' }).expect(200);
      expect((await rowOf(t.member.user.id)).role).to.equal('owner');
      // With two owners, one may demote the other.
      await patchUser(t.member, t.owner.user.id, { role: 'admin' }).expect(200);
      expect((await rowOf(t.owner.user.id)).role).to.equal('admin');
    });

    it('never changes a platform admin who belongs to the workspace', async () => {
      const t = await team(app());
      const root = await superuser(app());
      await db()('users').where({ id: root.user.id }).update({ workspace_id: t.workspaceId, role: 'member' });
      await patchUser(t.owner, root.user.id, { is_active: false }).expect(403);
      await patchUser(t.owner, root.user.id, { name: 'Renamed' }).expect(403);
      await request(app()).delete(`/users/${root.user.id}`).set(t.owner.auth).expect(403);
      expect(await rowOf(root.user.id)).to.include({ is_active: true, role: 'member' });
    });
  });

  it('answers 409 LAST_OWNER when the last owner would be demoted or moved away, and changes nothing', async () => {
    const t = await team(app());
    const other = await team(app());
    const root = await superuser(app());
    const demote = await patchUser(root, t.owner.user.id, { role: 'admin' }).expect(409);
    expect(demote.body).to.deep.equal({ detail: 'The last owner cannot be demoted', code: 'LAST_OWNER' });
    await patchUser(root, t.owner.user.id, { workspace_id: other.workspaceId }).expect(409);
    await patchUser(root, t.owner.user.id, { workspace_id: null }).expect(409);
    expect(await rowOf(t.owner.user.id)).to.include({ role: 'owner', workspace_id: t.workspaceId });
  });

  it('leaves one owner when two owners demote each other at the same time', async () => {
    const t = await team(app());
    await patchUser(t.owner, t.admin.user.id, { role: 'owner' }).expect(200);
    const [x, y] = await Promise.all([
      patchUser(t.owner, t.admin.user.id, { role: 'member' }),
      patchUser(t.admin, t.owner.user.id, { role: 'member' }),
    ]);
    expect([x.status, y.status].sort()).to.deep.equal([200, 409]);
    const owners = await db()('users').where({ workspace_id: t.workspaceId, role: 'owner' });
    expect(owners).to.have.length(1);
  });

  it('lets no one change their own role or activity, the platform admin included, but anyone their own profile', async () => {
    const t = await team(app());
    const root = await superuser(app());
    for (const s of [t.owner, t.admin, t.member, root]) {
      const role = await patchUser(s, s.user.id, { role: 'member' }).expect(403);
      expect(role.body.code).to.equal('FORBIDDEN');
      await patchUser(s, s.user.id, { is_active: false }).expect(403);
      await patchUser(s, s.user.id, { name: 'Myself' }).expect(200);
      expect(await rowOf(s.user.id)).to.include({ name: 'Myself', role: s.user.role, is_active: true });
    }
  });

  it('answers 403 for any field the caller may not change, and changes nothing at all', async () => {
    const t = await team(app());
    const before = await rowOf(t.member.user.id);
    const attempts: [Session, object][] = [
      [t.owner, { name: 'Sneaky', is_superuser: true }],
      [t.owner, { name: 'Sneaky', workspace_id: null }],
      [t.owner, { name: 'Sneaky', role: null }],
      [t.admin, { name: 'Sneaky', role: 'owner' }],
      [t.admin, { name: 'Sneaky', email: `${unique()}@example.com` }],
      [t.admin, { name: 'Sneaky', password: 'another-password' }],
      [t.member, { name: 'Sneaky' }],
      [t.member, { is_active: false }],
    ];
    for (const [who, body] of attempts) {
      const res = await patchUser(who, t.member.user.id === who.user.id ? t.admin.user.id : t.member.user.id, body);
      expect(res.status, JSON.stringify(body)).to.equal(403);
    }
    const after = await rowOf(t.member.user.id);
    expect(after).to.deep.equal(before);
    expect((await rowOf(t.admin.user.id)).name).to.not.equal('Sneaky');
  });

  it("bumps token_version on deactivation, so the user's tokens die, and writes audit rows with actor and target", async () => {
    const t = await team(app());
    const before = await rowOf(t.member.user.id);
    await patchUser(t.owner, t.member.user.id, { role: 'admin' }).expect(200);
    await patchUser(t.owner, t.member.user.id, { is_active: false }).expect(200);
    expect((await rowOf(t.member.user.id)).token_version).to.equal(before.token_version + 1);
    await request(app()).get('/users/me').set(t.member.auth).expect(401);
    await request(app()).post('/auth/jwt/refresh').send({ refresh_token: t.member.refresh }).expect(401);
    const audit = await db()('audit_log')
      .where({ workspace_id: t.workspaceId, target_id: t.member.user.id })
      .whereIn('action', ['role_changed', 'user_deactivated']);
    expect(audit.map((a: { action: string }) => a.action)).to.have.members(['role_changed', 'user_deactivated']);
    for (const row of audit)
      expect(row).to.include({ actor_id: t.owner.user.id, target_type: 'user', target_id: t.member.user.id });
    expect(audit.find((a: { action: string }) => a.action === 'role_changed')?.details).to.deep.equal({
      from: 'member',
      to: 'admin',
    });
  });
});

describe('DELETE /users/{id}', () => {
  it('lets the platform admin delete any user, and their birthday row goes too', async () => {
    const t = await team(app());
    const root = await superuser(app());
    await request(app()).delete(`/users/${t.owner.user.id}`).set(root.auth).expect(204);
    expect(await findUserById(db(), t.owner.user.id)).to.equal(undefined);
    expect(await birthdayOf(t.owner.user.id)).to.equal(undefined);
    await request(app()).get('/users/me').set(t.owner.auth).expect(401);
  });

  it('lets an owner or admin remove a non-owner of their own workspace, birthday included', async () => {
    const t = await team(app());
    expect(await birthdayOf(t.member.user.id)).to.not.equal(undefined);
    await request(app()).get('/users/').set(t.owner.auth).expect(200);
    await request(app()).delete(`/users/${t.member.user.id}`).set(t.admin.auth).expect(204);
    expect(await findUserById(db(), t.member.user.id)).to.equal(undefined);
    expect(await birthdayOf(t.member.user.id)).to.equal(undefined);
    const ids = ((await request(app()).get('/users/').set(t.owner.auth).expect(200)).body as { id: string }[]).map(
      (u) => u.id,
    );
    expect(ids).to.not.include(t.member.user.id);
    await request(app()).delete(`/users/${t.admin.user.id}`).set(t.owner.auth).expect(204);
  });

  it('refuses an admin deleting an owner, a member deleting anyone and an admin or owner deleting themselves', async () => {
    const t = await team(app());
    for (const [who, target] of [
      [t.admin, t.owner],
      [t.member, t.admin],
      [t.admin, t.admin],
      [t.owner, t.owner],
    ] as const) {
      const res = await request(app()).delete(`/users/${target.user.id}`).set(who.auth).expect(403);
      expect(res.body.code).to.equal('FORBIDDEN');
    }
    for (const s of [t.owner, t.admin, t.member]) expect(await findUserById(db(), s.user.id)).to.not.equal(undefined);
  });

  it("answers 404 for another workspace's user", async () => {
    const a = await team(app());
    const b = await team(app());
    await request(app()).delete(`/users/${b.member.user.id}`).set(a.owner.auth).expect(404);
    expect(await findUserById(db(), b.member.user.id)).to.not.equal(undefined);
  });
});
