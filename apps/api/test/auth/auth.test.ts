import { expect } from 'chai';
import request from 'supertest';
import crypto from 'node:crypto';
import jwt from 'jsonwebtoken';
import { getConfig } from '@nudge/config';
import { findUserById } from '@nudge/db';
import { createApp } from '../../src/index';
import { createPasswords } from '../../src/auth/passwords';
import { createRedis } from '@nudge/queue';
import { hashPassword, verifyPassword } from '@nudge/crypto';
import { testApp, testDeps, signUp, login, unique, PASSWORD, team, superuser } from '../helpers';

const app = () => testApp();

function forge(
  payload: Record<string, unknown>,
  secret: string | crypto.KeyObject = getConfig().jwtSecret,
  header: jwt.SignOptions = { algorithm: 'HS256' },
): string {
  return jwt.sign(payload, secret as string, header);
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>;
}

describe('POST /auth/register', () => {
  it('answers 201 with the user and never a hash', async () => {
    const email = `${unique()}@example.com`;
    const res = await request(app())
      .post('/auth/register')
      .send({ email, password: PASSWORD, date_of_birth: '1991-02-03', name: 'Ada' })
      .expect(201);
    expect(res.body).to.include({
      email,
      name: 'Ada',
      date_of_birth: '1991-02-03',
      workspace_id: null,
      role: null,
      is_superuser: false,
      is_active: true,
      is_verified: false,
    });
    expect(res.body).to.not.have.any.keys('password_hash', 'hashed_password', 'token_version', 'password');
    expect(JSON.stringify(res.body)).to.not.contain('$2');
  });

  for (const field of ['is_superuser', 'is_active', 'is_verified', 'role', 'token_version', 'something_else']) {
    it(`refuses ${field} with 422 and stores nothing`, async () => {
      const email = `${unique()}@example.com`;
      const res = await request(app())
        .post('/auth/register')
        .send({ email, password: PASSWORD, date_of_birth: '1991-02-03', [field]: true })
        .expect(422);
      expect(res.body.code).to.equal('VALIDATION_ERROR');
      expect(res.body.detail[0]).to.deep.include({ loc: ['body', field], type: 'object.unknown' });
      await request(app()).post('/auth/jwt/login').send({ username: email, password: PASSWORD }).expect(400);
    });
  }

  it('accepts a 72-byte password and refuses a 73-byte one instead of truncating it', async () => {
    const ok = 'é'.repeat(36); // 72 bytes
    const email = `${unique()}@example.com`;
    await request(app()).post('/auth/register').send({ email, password: ok, date_of_birth: '1990-01-01' }).expect(201);
    await request(app()).post('/auth/jwt/login').send({ username: email, password: ok }).expect(200);
    const res = await request(app())
      .post('/auth/register')
      .send({ email: `${unique()}@example.com`, password: `${ok}a`, date_of_birth: '1990-01-01' })
      .expect(422);
    expect(res.body.detail[0].loc).to.deep.equal(['body', 'password']);
  });

  it('refuses a password shorter than 8 characters', async () => {
    await request(app())
      .post('/auth/register')
      .send({ email: `${unique()}@example.com`, password: 'short', date_of_birth: '1990-01-01' })
      .expect(422);
  });

  it('answers 400 REGISTER_USER_ALREADY_EXISTS for a duplicate email in any case', async () => {
    const email = `${unique()}@example.com`;
    await request(app())
      .post('/auth/register')
      .send({ email, password: PASSWORD, date_of_birth: '1990-01-01' })
      .expect(201);
    const res = await request(app())
      .post('/auth/register')
      .send({ email: email.toUpperCase(), password: PASSWORD, date_of_birth: '1990-01-01' })
      .expect(400);
    expect(res.body).to.deep.equal({ detail: 'REGISTER_USER_ALREADY_EXISTS', code: 'REGISTER_USER_ALREADY_EXISTS' });
  });

  it("founds a workspace with the user as owner, in the user's timezone", async () => {
    const s = await signUp(app(), { workspace_name: unique('Acme'), timezone: 'Asia/Kolkata' });
    expect(s.user.role).to.equal('owner');
    const ws = await request(app()).get(`/workspaces/${s.user.workspace_id}`).set(s.auth).expect(200);
    expect(ws.body.timezone).to.equal('Asia/Kolkata');
  });

  it('answers 400 REGISTER_WORKSPACE_ALREADY_EXISTS for a taken name in any case', async () => {
    const name = unique('Taken');
    await signUp(app(), { workspace_name: name });
    const res = await request(app())
      .post('/auth/register')
      .send({
        email: `${unique()}@example.com`,
        password: PASSWORD,
        date_of_birth: '1990-01-01',
        workspace_name: name.toLowerCase(),
      })
      .expect(400);
    expect(res.body.code).to.equal('REGISTER_WORKSPACE_ALREADY_EXISTS');
  });

  it('joins a workspace with an invite, once', async () => {
    const owner = await signUp(app(), { workspace_name: unique('Inv') });
    const inv = await request(app())
      .post(`/workspaces/${owner.user.workspace_id}/invites`)
      .set(owner.auth)
      .send({})
      .expect(201);
    expect(inv.body).to.have.keys('invite_token', 'expires_at');
    const joined = await signUp(app(), { invite_token: inv.body.invite_token });
    expect(joined.user).to.include({ workspace_id: owner.user.workspace_id, role: 'member' });
    const again = await request(app())
      .post('/auth/register')
      .send({
        email: `${unique()}@example.com`,
        password: PASSWORD,
        date_of_birth: '1990-01-01',
        invite_token: inv.body.invite_token,
      })
      .expect(400);
    expect(again.body.code).to.equal('REGISTER_INVALID_INVITE_TOKEN');
  });

  it('answers 400 REGISTER_INVALID_INVITE_TOKEN for a bad or expired invite', async () => {
    await request(app())
      .post('/auth/register')
      .send({ email: `${unique()}@example.com`, password: PASSWORD, date_of_birth: '1990-01-01', invite_token: 'nope' })
      .expect(400);
    const owner = await signUp(app(), { workspace_name: unique('Exp') });
    const inv = await request(app())
      .post(`/workspaces/${owner.user.workspace_id}/invites`)
      .set(owner.auth)
      .send({})
      .expect(201);
    await testDeps()
      .db('workspace_invites')
      .where({ workspace_id: owner.user.workspace_id })
      .update({ expires_at: new Date(Date.now() - 1000) });
    const res = await request(app())
      .post('/auth/register')
      .send({
        email: `${unique()}@example.com`,
        password: PASSWORD,
        date_of_birth: '1990-01-01',
        invite_token: inv.body.invite_token,
      })
      .expect(400);
    expect(res.body.code).to.equal('REGISTER_INVALID_INVITE_TOKEN');
  });

  it('answers 422 when given both an invite and a workspace name', async () => {
    await request(app())
      .post('/auth/register')
      .send({
        email: `${unique()}@example.com`,
        password: PASSWORD,
        date_of_birth: '1990-01-01',
        invite_token: 'x',
        workspace_name: 'y',
      })
      .expect(422);
  });

  it('lets only an owner invite an admin', async () => {
    const t = await team(app());
    await request(app())
      .post(`/workspaces/${t.workspaceId}/invites`)
      .set(t.admin.auth)
      .send({ role: 'admin' })
      .expect(403);
    await request(app())
      .post(`/workspaces/${t.workspaceId}/invites`)
      .set(t.admin.auth)
      .send({ role: 'member' })
      .expect(201);
    await request(app()).post(`/workspaces/${t.workspaceId}/invites`).set(t.member.auth).send({}).expect(403);
  });
});

describe('a user without a workspace', () => {
  it('sees empty tenant lists and gets 403 NO_WORKSPACE for tenant writes', async () => {
    const loner = await signUp(app());
    expect((await request(app()).get('/users/').set(loner.auth).expect(200)).body).to.deep.equal([]);
    expect((await request(app()).get('/workspaces/').set(loner.auth).expect(200)).body).to.deep.equal([]);
  });
});

describe('POST /auth/jwt/login', () => {
  it('accepts the OAuth2 password form and JSON with email, matching the email in any case', async () => {
    const s = await signUp(app());
    const form = await request(app())
      .post('/auth/jwt/login')
      .type('form')
      .send({ username: s.user.email.toUpperCase(), password: PASSWORD, grant_type: 'password' })
      .expect(200);
    expect(form.body.token_type).to.equal('bearer');
    expect(form.body).to.have.keys('access_token', 'refresh_token', 'token_type');
    expect(form.headers['cache-control']).to.equal('no-store');
    await request(app()).post('/auth/jwt/login').send({ email: s.user.email, password: PASSWORD }).expect(200);
  });

  it('answers 400 LOGIN_BAD_CREDENTIALS for a wrong password, an unknown email and an inactive user alike', async () => {
    const s = await signUp(app());
    const wrong = await request(app())
      .post('/auth/jwt/login')
      .send({ username: s.user.email, password: 'wrong-password' })
      .expect(400);
    const unknown = await request(app())
      .post('/auth/jwt/login')
      .send({ username: `${unique()}@example.com`, password: PASSWORD })
      .expect(400);
    await testDeps().db('users').where({ id: s.user.id }).update({ is_active: false });
    const inactive = await request(app())
      .post('/auth/jwt/login')
      .send({ username: s.user.email, password: PASSWORD })
      .expect(400);
    for (const r of [wrong, unknown, inactive])
      expect(r.body).to.deep.equal({ detail: 'LOGIN_BAD_CREDENTIALS', code: 'LOGIN_BAD_CREDENTIALS' });
  });

  it('compares an unknown email against a real bcrypt hash made once at the configured cost, through the same function', async () => {
    const compared: string[] = [];
    const passwords = createPasswords(getConfig().bcryptCost, {
      hash: hashPassword,
      verify: (p, h) => {
        compared.push(h);
        return verifyPassword(p, h);
      },
    });
    const local = createApp({ ...testDeps(), passwords });
    await request(local)
      .post('/auth/jwt/login')
      .send({ username: `${unique()}@example.com`, password: PASSWORD })
      .expect(400);
    await request(local)
      .post('/auth/jwt/login')
      .send({ username: `${unique()}@example.com`, password: 'other-pass' })
      .expect(400);
    expect(compared).to.have.length(2);
    expect(compared[0]).to.match(new RegExp(`^\\$2[aby]\\$${String(getConfig().bcryptCost).padStart(2, '0')}\\$`));
    expect(compared[1]).to.equal(compared[0]);
  });
});

describe('access tokens', () => {
  it('carry sub, jti, typ, aud, tv, sid, iat and exp, HS256, lasting ACCESS_TOKEN_TTL_SECONDS', async () => {
    const s = await signUp(app());
    const header = JSON.parse(Buffer.from(s.access.split('.')[0] ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
    expect(header.alg).to.equal('HS256');
    const c = claimsOf(s.access);
    expect(c).to.have.keys('sub', 'jti', 'typ', 'aud', 'tv', 'sid', 'iat', 'exp');
    expect(c).to.include({ sub: s.user.id, typ: 'access', aud: 'nudge:auth', tv: 0 });
    expect((c.exp as number) - (c.iat as number)).to.equal(getConfig().accessTokenTtlSeconds);
  });

  describe('abuse', () => {
    let s: Awaited<ReturnType<typeof signUp>>;
    let base: Record<string, unknown>;
    before(async () => {
      s = await signUp(app());
      base = claimsOf(s.access);
    });
    const cases: [string, () => string][] = [
      [
        'alg none',
        () =>
          `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(base)).toString('base64url')}.`,
      ],
      ['a wrong secret', () => forge(base, 'x'.repeat(40))],
      ['a wrong aud', () => forge({ ...base, aud: 'someone-else' })],
      ['an expired token', () => forge({ ...base, iat: 1000, exp: 2000 })],
      ['a refresh token used as access', () => s.refresh],
      ['typ refresh', () => forge({ ...base, typ: 'refresh' })],
      ['a stale tv', () => forge({ ...base, tv: 7 })],
      ['HS512', () => forge(base, getConfig().jwtSecret, { algorithm: 'HS512' })],
      ['a missing sid', () => forge({ ...base, sid: undefined })],
    ];
    it('accepts the genuine token (control)', async () => {
      await request(app())
        .get('/users/me')
        .set('Authorization', `Bearer ${forge(base)}`)
        .expect(200);
    });
    for (const [name, make] of cases) {
      it(`answers 401 for ${name}`, async () => {
        const res = await request(app()).get('/users/me').set('Authorization', `Bearer ${make()}`).expect(401);
        expect(res.body.code).to.equal('UNAUTHORIZED');
        expect(res.headers['www-authenticate']).to.equal('Bearer');
      });
    }
  });

  // Through the API, which announces the change to every replica's principal cache (principal-cache.test.ts); a
  // change made in PostgreSQL alone reaches a cached principal only when its copy expires.
  it('die when the user is deactivated', async () => {
    const s = await signUp(app());
    const root = await superuser(app());
    await request(app()).patch(`/users/${s.user.id}`).set(root.auth).send({ is_active: false }).expect(200);
    await request(app()).get('/users/me').set(s.auth).expect(401);
  });
});

describe('POST /auth/jwt/refresh', () => {
  it('rotates: the old token is spent and a new pair returned', async () => {
    const s = await signUp(app());
    const r1 = await request(app()).post('/auth/jwt/refresh').send({ refresh_token: s.refresh }).expect(200);
    expect(r1.body).to.have.keys('access_token', 'refresh_token', 'token_type');
    expect(r1.body.refresh_token).to.not.equal(s.refresh);
    expect(claimsOf(r1.body.access_token as string).sid).to.equal(claimsOf(s.access).sid);
    await request(app()).get('/users/me').set('Authorization', `Bearer ${r1.body.access_token}`).expect(200);
  });

  it('revokes the whole family when a spent token is presented again', async () => {
    const s = await signUp(app());
    const r1 = await request(app()).post('/auth/jwt/refresh').send({ refresh_token: s.refresh }).expect(200);
    const reuse = await request(app()).post('/auth/jwt/refresh').send({ refresh_token: s.refresh }).expect(401);
    expect(reuse.body.code).to.equal('REFRESH_TOKEN_INVALID');
    await request(app()).post('/auth/jwt/refresh').send({ refresh_token: r1.body.refresh_token }).expect(401);
  });

  it('answers 401 for an unknown or expired token, an inactive user and a stale token version', async () => {
    await request(app()).post('/auth/jwt/refresh').send({ refresh_token: 'unknown' }).expect(401);
    const a = await signUp(app());
    await testDeps()
      .db('refresh_tokens')
      .where({ user_id: a.user.id })
      .update({ expires_at: new Date(Date.now() - 1000) });
    await request(app()).post('/auth/jwt/refresh').send({ refresh_token: a.refresh }).expect(401);
    const b = await signUp(app());
    await testDeps().db('users').where({ id: b.user.id }).update({ is_active: false });
    await request(app()).post('/auth/jwt/refresh').send({ refresh_token: b.refresh }).expect(401);
    const c = await signUp(app());
    await testDeps().db('users').where({ id: c.user.id }).increment('token_version', 1);
    await request(app()).post('/auth/jwt/refresh').send({ refresh_token: c.refresh }).expect(401);
  });
});

describe('POST /auth/jwt/logout', () => {
  it('answers 204, denies the access token in PostgreSQL and Redis, and kills its refresh token', async () => {
    const s = await signUp(app());
    await request(app()).post('/auth/jwt/logout').set(s.auth).expect(204);
    await request(app()).get('/users/me').set(s.auth).expect(401);
    await request(app()).post('/auth/jwt/refresh').send({ refresh_token: s.refresh }).expect(401);
    const jti = claimsOf(s.access).jti as string;
    expect(await testDeps().db('revoked_tokens').where({ jti }).first()).to.be.an('object');
    const keys = await testDeps().redis.keys(`${getConfig().redisPrefix}:denied:${jti}`);
    expect(keys).to.have.length(1);
    expect(await testDeps().redis.ttl(keys[0] ?? '')).to.be.greaterThan(0);
  });

  it('reads the denylist from PostgreSQL when Redis is down', async () => {
    const s = await signUp(app());
    await request(app()).post('/auth/jwt/logout').set(s.auth).expect(204);
    const deadRedis = createRedis('client', 'redis://127.0.0.1:1');
    const noRedis = createApp({ ...testDeps(), redis: deadRedis });
    await request(noRedis).get('/users/me').set(s.auth).expect(401);
    const other = await login(app(), (await signUp(app())).user.email);
    await request(noRedis).get('/users/me').set(other.auth).expect(200);
    deadRedis.disconnect();
  });

  it('needs an access token', async () => {
    await request(app()).post('/auth/jwt/logout').expect(401);
  });
});

describe('token_version', () => {
  it('is bumped by a password change, killing old tokens', async () => {
    const s = await signUp(app());
    await request(app())
      .patch('/users/me')
      .set(s.auth)
      .send({ password: 'new-password-1', current_password: PASSWORD })
      .expect(200);
    await request(app()).get('/users/me').set(s.auth).expect(401);
    expect((await findUserById(testDeps().db, s.user.id))?.token_version).to.equal(1);
  });
});
