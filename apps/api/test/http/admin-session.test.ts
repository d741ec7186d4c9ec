import crypto from 'node:crypto';
import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { getConfig } from '@nudge/config';
import { testApp, signUp, superuser, unique } from '../helpers';
import { appWith } from '../security/security-helpers';
import { signAccessToken, signingKey } from '../../src/auth/access-tokens';
import { ADMIN_SESSION_COOKIE } from '../../src/auth/admin-session';

/** The admin-session Set-Cookie of an answer, split into its attributes (lower-case names). */
function sessionCookie(res: request.Response): { value: string; attrs: Map<string, string> } {
  const all = ([] as string[]).concat(res.headers['set-cookie'] ?? []);
  const line = all.find((c) => c.startsWith(`${ADMIN_SESSION_COOKIE}=`));
  expect(line, 'a Set-Cookie for the admin session').to.be.a('string');
  const [pair = '', ...rest] = (line as string).split(';').map((p) => p.trim());
  const attrs = new Map(
    rest.map((p) => {
      const [k = '', v = ''] = p.split('=');
      return [k.toLowerCase(), v];
    }),
  );
  return { value: pair.slice(ADMIN_SESSION_COOKIE.length + 1), attrs };
}

async function openSession(app: Express, auth: { Authorization: string }): Promise<string> {
  const res = await request(app).post('/admin/session').set(auth).expect(204);
  return `${ADMIN_SESSION_COOKIE}=${sessionCookie(res).value}`;
}

describe('POST /admin/session', () => {
  it('sets an HttpOnly, SameSite=Strict cookie on /admin that lives no longer than the token', async () => {
    const root = await superuser(testApp());
    const exp = (JSON.parse(Buffer.from(root.access.split('.')[1] ?? '', 'base64url').toString()) as { exp: number })
      .exp;
    const res = await request(testApp()).post('/admin/session').set(root.auth).expect(204);
    const { value, attrs } = sessionCookie(res);
    expect(value).to.equal(root.access);
    expect(attrs.has('httponly')).to.equal(true);
    expect(attrs.get('samesite')).to.equal('Strict');
    expect(attrs.get('path')).to.equal('/admin');
    expect(attrs.has('secure'), 'not Secure outside production').to.equal(false);
    const maxAge = Number(attrs.get('max-age'));
    expect(maxAge).to.be.greaterThan(0).and.at.most(getConfig().accessTokenTtlSeconds);
    expect(new Date(attrs.get('expires') ?? '').getTime()).to.be.at.most(exp * 1000);
    expect(res.headers['cache-control']).to.equal('no-store');
  });

  it('marks the cookie Secure in production', async () => {
    const { app } = appWith({ env: 'production', isProduction: true, trustedProxies: ['loopback'], allowedHosts: [] });
    const root = await superuser(testApp());
    const host = new URL(getConfig().publicBaseUrl).hostname;
    const res = await request(app)
      .post('/admin/session')
      .set(root.auth)
      .set('Host', host)
      .set('X-Forwarded-Proto', 'https')
      .expect(204);
    expect(sessionCookie(res).attrs.has('secure')).to.equal(true);
  });

  it('answers 403 to a user who is not the platform admin, and 401 without a token', async () => {
    const s = await signUp(testApp(), { workspace_name: unique('ops') });
    const res = await request(testApp()).post('/admin/session').set(s.auth).expect(403);
    expect(res.headers['set-cookie']).to.equal(undefined);
    await request(testApp()).post('/admin/session').expect(401);
  });

  it('opens the queue dashboard with the cookie alone', async () => {
    const root = await superuser(testApp());
    const cookie = await openSession(testApp(), root.auth);
    await request(testApp()).get('/admin/queues').expect(401);
    const page = await request(testApp()).get('/admin/queues').set('Cookie', cookie).expect(200);
    expect(page.text).to.match(/<div id="root">/);
    expect(page.text, 'no third-party fonts').to.not.contain('fonts.googleapis.com');
    const api = await request(testApp()).get('/admin/queues/api/queues').set('Cookie', cookie).expect(200);
    expect((api.body.queues as { name: string }[]).map((q) => q.name)).to.include('dispatch-email');
  });

  it("refuses a non-admin's token in the cookie with 403", async () => {
    const s = await signUp(testApp(), { workspace_name: unique('ops') });
    await request(testApp())
      .get('/admin/queues/api/queues')
      .set('Cookie', `${ADMIN_SESSION_COOKIE}=${s.access}`)
      .expect(403);
  });

  it('refuses the cookie once its token has expired', async () => {
    const root = await superuser(testApp());
    const { token } = signAccessToken(signingKey(getConfig().jwtSecret), -60, root.row, crypto.randomUUID());
    await request(testApp()).get('/admin/queues').set('Cookie', `${ADMIN_SESSION_COOKIE}=${token}`).expect(401);
  });

  it('is ended by logging out', async () => {
    const root = await superuser(testApp());
    const cookie = await openSession(testApp(), root.auth);
    await request(testApp()).get('/admin/queues/api/queues').set('Cookie', cookie).expect(200);
    await request(testApp()).post('/auth/jwt/logout').set(root.auth).send({}).expect(204);
    await request(testApp()).get('/admin/queues/api/queues').set('Cookie', cookie).expect(401);
  });

  it('is ignored outside /admin', async () => {
    const root = await superuser(testApp());
    const cookie = await openSession(testApp(), root.auth);
    await request(testApp()).get('/users/me').set('Cookie', cookie).expect(401);
    await request(testApp()).get('/api/v1/users/me').set('Cookie', cookie).expect(401);
    await request(testApp()).get('/users/me').set(root.auth).expect(200);
  });
});

describe('changes under /admin/queues', () => {
  const retry = '/admin/queues/api/queues/dispatch-email/retry/failed';

  it('answers 403 ORIGIN_MISMATCH without an Origin, or with another one', async () => {
    const root = await superuser(testApp());
    const cookie = await openSession(testApp(), root.auth);
    const missing = await request(testApp()).put(retry).set('Cookie', cookie).expect(403);
    expect(missing.body.code).to.equal('ORIGIN_MISMATCH');
    await request(testApp()).put(retry).set(root.auth).expect(403);
    await request(testApp()).put(retry).set('Cookie', cookie).set('Origin', 'https://evil.example').expect(403);
  });

  it('are carried out when Origin is the public base URL', async () => {
    const root = await superuser(testApp());
    const cookie = await openSession(testApp(), root.auth);
    const origin = new URL(getConfig().publicBaseUrl).origin;
    const res = await request(testApp()).put(retry).set('Cookie', cookie).set('Origin', origin);
    expect(res.status).to.be.within(200, 299);
  });
});
