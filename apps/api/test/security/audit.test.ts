import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { testDeps, team, signUp, login, PASSWORD } from '../helpers';
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
