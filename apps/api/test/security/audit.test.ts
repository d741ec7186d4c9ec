import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { hashToken, randomToken } from '@nudge/crypto';
import { replacePasswordResetToken } from '@nudge/db';
import { testDeps, team, signUp, login, superuser, PASSWORD } from '../helpers';
import { memoryLogger, type LogLine } from '../memory-logger';
import { appWith, clientIp } from './security-helpers';

interface AuditRow {
  workspace_id: string;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: Record<string, unknown>;
  ip: string | null;
}

describe('the audit trail', () => {
  let app: Express;
  let lines: LogLine[];
  let t: Awaited<ReturnType<typeof team>>;

  const rows = async (action: string): Promise<AuditRow[]> =>
    testDeps().db('audit_log').where({ workspace_id: t.workspaceId, action }).orderBy('created_at');
  const logged = (action: string) => lines.filter((l) => l.message === `audit: ${action}`);

  beforeEach(async () => {
    const memory = memoryLogger();
    lines = memory.lines;
    ({ app } = appWith({ trustedProxies: ['loopback'], rateLimits: { loginFailures: 2 } }, { logger: memory.logger }));
    t = await team(app);
  });

  it('logs a login and writes it for a workspace member, with the IP', async () => {
    const ip = clientIp();
    await request(app)
      .post('/auth/jwt/login')
      .set('X-Forwarded-For', ip)
      .send({ username: t.member.user.email, password: PASSWORD })
      .expect(200);
    expect(logged('login').some((l) => l.userId === t.member.user.id && l.ip === ip)).to.be.true;
    const written = (await rows('login')).filter((r) => r.ip === ip);
    expect(written).to.have.length(1);
    expect(written[0]).to.include({ actor_id: t.member.user.id, workspace_id: t.workspaceId });
  });

  it('logs failed logins and a lockout, and writes them for a workspace member', async () => {
    const ip = clientIp();
    const attempt = () =>
      request(app)
        .post('/auth/jwt/login')
        .set('X-Forwarded-For', ip)
        .send({ username: t.member.user.email, password: 'wrong-password' });
    await attempt().expect(400);
    await attempt().expect(400);
    await attempt().expect(429);
    expect(logged('login_failed').filter((l) => l.ip === ip)).to.have.length(2);
    expect((await rows('login_failed')).filter((r) => r.ip === ip)).to.have.length(2);
    expect(logged('login_lockout').filter((l) => l.ip === ip)).to.have.length(1);
    const lockouts = (await rows('login_lockout')).filter((r) => r.ip === ip);
    expect(lockouts).to.have.length(1);
    expect(lockouts[0]).to.deep.include({ actor_id: null, target_type: 'user', target_id: t.member.user.id });
    expect(lockouts[0]?.details).to.deep.equal({
      seconds: testDeps().config.rateLimits.lockoutBaseSeconds,
      failures: 2,
    });
  });

  it('writes a role change with actor, target, and the old and new roles', async () => {
    await request(app).patch(`/users/${t.member.user.id}`).set(t.owner.auth).send({ role: 'admin' }).expect(200);
    expect(logged('role_changed')).to.have.length(1);
    const [row] = await rows('role_changed');
    expect(row).to.deep.include({
      actor_id: t.owner.user.id,
      target_type: 'user',
      target_id: t.member.user.id,
      details: { from: 'member', to: 'admin' },
    });
  });

  it('writes an invite and a deactivation with actor and target', async () => {
    const inviteRows = await rows('invite_created');
    expect(inviteRows.length).to.equal(2); // team() invited its admin and its member
    for (const r of inviteRows) expect(r).to.include({ actor_id: t.owner.user.id, target_type: 'invite' });
    await request(app).patch(`/users/${t.member.user.id}`).set(t.admin.auth).send({ is_active: false }).expect(200);
    const [row] = await rows('user_deactivated');
    expect(row).to.include({ actor_id: t.admin.user.id, target_type: 'user', target_id: t.member.user.id });
  });

  it('logs a logout (a token revocation) and writes it for a workspace member', async () => {
    const session = await login(app, t.member.user.email);
    await request(app).post('/auth/jwt/logout').set(session.auth).expect(204);
    expect(logged('logout').some((l) => l.userId === t.member.user.id)).to.be.true;
    expect((await rows('logout')).map((r) => r.actor_id)).to.deep.equal([t.member.user.id]);
  });

  it('only logs the events of a user without a workspace', async () => {
    const loner = await signUp(app);
    await request(app).post('/auth/jwt/logout').set(loner.auth).expect(204);
    expect(logged('login').some((l) => l.userId === loner.user.id)).to.be.true;
    expect(logged('logout').some((l) => l.userId === loner.user.id)).to.be.true;
    expect(await testDeps().db('audit_log').where({ actor_id: loner.user.id })).to.deep.equal([]);
  });
});

describe('the audit trail (issue 9)', () => {
  let app: Express;
  let t: Awaited<ReturnType<typeof team>>;
  const rows = async (action: string, workspaceId = t.workspaceId): Promise<AuditRow[]> =>
    testDeps().db('audit_log').where({ workspace_id: workspaceId, action }).orderBy('created_at');

  beforeEach(async () => {
    ({ app } = appWith({ trustedProxies: ['loopback'] }));
    t = await team(app);
  });

  it("writes a password reset into the user's workspace", async () => {
    const token = randomToken(32);
    await replacePasswordResetToken(testDeps().db, {
      user_id: t.member.user.id,
      token_hash: hashToken(token),
      expires_at: new Date(Date.now() + 600_000),
    });
    await request(app).post('/auth/reset-password').send({ token, password: 'another-pass-9' }).expect(200);
    const [row] = await rows('password_reset');
    expect(row).to.deep.include({ actor_id: t.member.user.id, target_type: 'user', target_id: t.member.user.id });
  });

  it('writes a detected refresh reuse with its family, and the family’s access tokens stop working', async () => {
    const session = await login(app, t.member.user.email);
    const rotated = await request(app).post('/auth/jwt/refresh').send({ refresh_token: session.refresh }).expect(200);
    await request(app).post('/auth/jwt/refresh').send({ refresh_token: session.refresh }).expect(401);
    const [row] = await rows('refresh_reuse_detected');
    const family = (
      (await testDeps()
        .db('refresh_tokens')
        .where({ token_hash: hashToken(session.refresh) })
        .first()) as {
        family_id: string;
      }
    ).family_id;
    expect(row).to.deep.include({ target_type: 'refresh_family', target_id: family, details: { family } });
    for (const access of [session.access, rotated.body.access_token as string])
      await request(app).get('/users/me').set('Authorization', `Bearer ${access}`).expect(401);
  });

  it('writes invite revocations and webhook changes, never the webhook itself', async () => {
    const webhook = 'https://hooks.slack.com/services/T0001/B0002/secretPART9';
    await request(app).patch(`/workspaces/${t.workspaceId}`).set(t.admin.auth).send({ slack_webhook: webhook });
    await request(app).patch(`/workspaces/${t.workspaceId}`).set(t.owner.auth).send({ slack_webhook: null });
    expect((await rows('webhook_set')).map((r) => r.actor_id)).to.deep.equal([t.admin.user.id]);
    expect((await rows('webhook_cleared')).map((r) => r.actor_id)).to.deep.equal([t.owner.user.id]);
    const all = JSON.stringify(await testDeps().db('audit_log').where({ workspace_id: t.workspaceId }));
    expect(all).to.not.contain('secretPART9');
    expect(all).to.not.contain('hooks.slack.com');

    await request(app).post(`/workspaces/${t.workspaceId}/invites`).set(t.owner.auth).send({}).expect(201);
    const invites = await request(app).get(`/workspaces/${t.workspaceId}/invites`).set(t.owner.auth).expect(200);
    const id = (invites.body.items as { id: string }[])[0]?.id as string;
    await request(app).delete(`/workspaces/${t.workspaceId}/invites/${id}`).set(t.admin.auth).expect(204);
    const [row] = await rows('invite_revoked');
    expect(row).to.deep.include({ actor_id: t.admin.user.id, target_type: 'invite', target_id: id });
  });

  it('refuses an admin granting admin, as for invites; an owner may', async () => {
    const res = await request(app).patch(`/users/${t.member.user.id}`).set(t.admin.auth).send({ role: 'admin' });
    expect(res.status).to.equal(403);
    expect(res.body.code).to.equal('FORBIDDEN');
    expect(await rows('role_changed')).to.deep.equal([]);
    await request(app).patch(`/users/${t.member.user.id}`).set(t.owner.auth).send({ role: 'admin' }).expect(200);
    expect((await rows('role_changed')).map((r) => r.actor_id)).to.deep.equal([t.owner.user.id]);
  });

  describe('GET /audit/', () => {
    it("pages the caller's workspace's entries, newest first, for its owner and admins", async () => {
      const other = await team(app);
      const seen: { id: string; workspace_id: string; action: string }[] = [];
      let cursor: string | null = null;
      do {
        const res: request.Response = await request(app)
          .get('/audit/')
          .query(cursor ? { limit: 2, cursor } : { limit: 2 })
          .set(t.admin.auth)
          .expect(200);
        expect(res.body.items.length).to.be.at.most(2);
        seen.push(...(res.body.items as typeof seen));
        cursor = res.body.next_cursor as string | null;
      } while (cursor);
      const written = await testDeps().db('audit_log').where({ workspace_id: t.workspaceId });
      expect(seen.map((e) => e.id)).to.have.members(written.map((r: { id: string }) => r.id));
      expect(new Set(seen.map((e) => e.id)).size).to.equal(seen.length);
      expect(seen.every((e) => e.workspace_id === t.workspaceId)).to.equal(true);
      expect(seen.map((e) => e.action)).to.include('invite_created');
      const owners = await request(app).get('/audit/').set(other.owner.auth).expect(200);
      expect((owners.body.items as typeof seen).every((e) => e.workspace_id === other.workspaceId)).to.equal(true);
    });

    it('answers 403 to a member and to a user without a workspace', async () => {
      await request(app).get('/audit/').set(t.member.auth).expect(403);
      await request(app)
        .get('/audit/')
        .set((await signUp(app)).auth)
        .expect(403);
    });

    it("shows the platform admin every workspace's entries, those of a deleted workspace included", async () => {
      const root = await superuser(app);
      const before = await rows('invite_created');
      await request(app).delete(`/workspaces/${t.workspaceId}`).set(t.admin.auth).expect(403);
      await request(app).delete(`/workspaces/${t.workspaceId}`).set(t.owner.auth).expect(204);
      const kept = await testDeps()
        .db('audit_log')
        .whereIn(
          'id',
          before.map((r) => (r as AuditRow & { id: string }).id),
        );
      expect(kept).to.have.length(before.length);
      expect(kept.every((r: AuditRow) => r.workspace_id === null)).to.equal(true);
      const res = await request(app).get('/audit/?limit=200').set(root.auth).expect(200);
      const ids = (res.body.items as { id: string }[]).map((e) => e.id);
      expect(ids).to.include.members(kept.map((r: { id: string }) => r.id));
    });
  });
});
