// Password reset as an attacker would use it: bogus tokens to keep the hashing pool busy and lock everyone out of
// login, forgot-password to flood an inbox, and a mailed link that should have died with the password it was for.
import { expect } from 'chai';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import type { Express } from 'express';
import { getConfig } from '@nudge/config';
import { hashToken, randomToken } from '@nudge/crypto';
import { insertUser, replacePasswordResetToken } from '@nudge/db';
import { QUEUES } from '@nudge/queue';
import { testApp, testDeps, signUp, superuser, login, unique, PASSWORD } from '../helpers';
import { memoryLogger } from '../memory-logger';
import { appWith, clientIp, countingPasswords, limiterKey } from './security-helpers';

const db = () => testDeps().db;

/** A live reset token for the user, minted the way the email worker mints one. */
async function mintResetToken(userId: string, expiresInMs = 3600_000): Promise<string> {
  const token = randomToken(32);
  await replacePasswordResetToken(db(), {
    user_id: userId,
    token_hash: hashToken(token),
    expires_at: new Date(Date.now() + expiresInMs),
  });
  return token;
}

async function liveResetTokens(userId: string): Promise<number> {
  const rows = await db()('password_reset_tokens').where({ user_id: userId }).whereNull('used_at');
  return rows.length;
}

/** The app on a real port, for floods: requests from distinct client addresses, answers as status and code. */
async function listening(app: Express) {
  const server = http.createServer(app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    post: async (path: string, body: object) => {
      const res = await fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': clientIp() },
        body: JSON.stringify(body),
      });
      return { status: res.status, code: ((await res.json()) as { code?: string }).code };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const reset = (app: Express, token: string, password = 'brand-new-pass-1') =>
  request(app).post('/auth/reset-password').send({ token, password });

describe('POST /auth/reset-password', () => {
  it('answers 400 RESET_PASSWORD_BAD_TOKEN to an unknown, expired or spent token without any bcrypt work', async () => {
    const { passwords, calls } = countingPasswords();
    const { app } = appWith({}, { passwords });
    const s = await signUp(testApp());
    const expired = await mintResetToken(s.user.id, -1000);
    const bodies = [];
    bodies.push((await reset(app, randomToken(32)).expect(400)).body);
    bodies.push((await reset(app, expired).expect(400)).body);
    const spent = await mintResetToken(s.user.id);
    await reset(app, spent).expect(200);
    const before = calls.length;
    bodies.push((await reset(app, spent).expect(400)).body);
    for (const b of bodies)
      expect(b).to.deep.equal({ detail: 'RESET_PASSWORD_BAD_TOKEN', code: 'RESET_PASSWORD_BAD_TOKEN' });
    // The one good token hashed once; none of the bad ones did anything.
    expect(calls.slice(0, before)).to.deep.equal([{ op: 'hash', lane: 'other' }]);
    expect(calls.length).to.equal(before);
  });

  it('lets exactly one of two concurrent uses of a token through', async () => {
    const s = await signUp(testApp());
    const token = await mintResetToken(s.user.id);
    const answers = await Promise.all([reset(testApp(), token, 'first-new-pass-1'), reset(testApp(), token)]);
    expect(answers.map((r) => r.status).sort()).to.deep.equal([200, 400]);
    const winner = answers[0]?.status === 200 ? 'first-new-pass-1' : 'brand-new-pass-1';
    await login(testApp(), s.user.email, winner);
  });

  it('keeps every real login answering, never 503, while 100 bogus resets arrive at once', async function () {
    this.timeout(60_000);
    const { passwords, calls } = countingPasswords();
    const { app } = appWith({ trustedProxies: ['loopback'] }, { passwords });
    const users = await Promise.all(Array.from({ length: 5 }, () => signUp(testApp())));
    // One listening server, as in production: supertest would start a server per request.
    const server = await listening(app);
    try {
      const flood = Array.from({ length: 100 }, () =>
        server.post('/auth/reset-password', { token: randomToken(32), password: 'brand-new-pass-1' }),
      );
      const logins = users.map((u) => server.post('/auth/jwt/login', { username: u.user.email, password: PASSWORD }));
      const [resets, answers] = await Promise.all([Promise.all(flood), Promise.all(logins)]);
      expect(answers.map((r) => r.status)).to.deep.equal([200, 200, 200, 200, 200]);
      expect(resets.every((r) => r.status === 400 && r.code === 'RESET_PASSWORD_BAD_TOKEN')).to.equal(true);
      // The logins' compares were the only bcrypt work.
      expect(calls).to.deep.equal(users.map(() => ({ op: 'verify', lane: 'login' })));
    } finally {
      await server.close();
    }
  });

  it('keeps logins answering while real resets fill the other lane of the hashing pool', async function () {
    this.timeout(60_000);
    const { passwords, calls } = countingPasswords();
    // A reset refused for a full pool is logged as an error; keep those off the console.
    const { app } = appWith({ trustedProxies: ['loopback'] }, { passwords, logger: memoryLogger().logger });
    const owners = await Promise.all(Array.from({ length: 5 }, () => signUp(testApp())));
    const hash = await passwords.hash(PASSWORD, getConfig().bcryptCost);
    const tokens = await Promise.all(
      Array.from({ length: getConfig().hashPoolMaxQueue + 20 }, async () => {
        const user = await insertUser(db(), {
          email: `${unique('flood')}@example.com`,
          password_hash: hash,
          date_of_birth: '1990-01-01',
        });
        return mintResetToken(user.id);
      }),
    );
    calls.length = 0;
    const server = await listening(app);
    try {
      const resets = tokens.map((token) => server.post('/auth/reset-password', { token, password: PASSWORD }));
      const logins = owners.map((u) => server.post('/auth/jwt/login', { username: u.user.email, password: PASSWORD }));
      const [resetAnswers, loginAnswers] = await Promise.all([Promise.all(resets), Promise.all(logins)]);
      // Resets may find their own lane full (503); logins never share its bound.
      expect(resetAnswers.every((r) => r.status === 200 || r.status === 503)).to.equal(true);
      expect(loginAnswers.map((r) => r.status)).to.deep.equal([200, 200, 200, 200, 200]);
      expect(calls.filter((c) => c.op === 'hash').every((c) => c.lane === 'other')).to.equal(true);
      expect(calls.filter((c) => c.op === 'verify').every((c) => c.lane === 'login')).to.equal(true);
    } finally {
      await server.close();
    }
  });

  it('refuses a client after RATE_LIMIT_RESET_PER_HOUR attempts, good or bad, with Retry-After', async () => {
    const { app, config } = appWith({ trustedProxies: ['loopback'], rateLimits: { resetPerHour: 2 } });
    const ip = clientIp();
    const attempt = (token: string) =>
      request(app).post('/auth/reset-password').set('X-Forwarded-For', ip).send({ token, password: PASSWORD });
    const s = await signUp(testApp());
    await attempt(randomToken(32)).expect(400);
    await attempt(await mintResetToken(s.user.id)).expect(200);
    const res = await attempt(await mintResetToken(s.user.id)).expect(429);
    expect(res.body).to.deep.equal({ detail: 'Too Many Requests', code: 'RATE_LIMITED' });
    expect(Number(res.headers['retry-after'])).to.be.within(3600 - 60, 3600);
    expect(await testDeps().redis.get(limiterKey(config, 'reset', ip))).to.equal('3');
    await request(app)
      .post('/auth/reset-password')
      .set('X-Forwarded-For', clientIp())
      .send({ token: randomToken(32), password: PASSWORD })
      .expect(400);
  });
});

describe('POST /auth/forgot-password', () => {
  const jobsFor = async (userId: string) => {
    const queue = testDeps().producers.queue(QUEUES.dispatchEmail);
    const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed']);
    return jobs.filter((j) => (j.data as { userId?: string }).userId === userId).length;
  };
  const forgot = (app: Express, email: string) =>
    request(app).post('/auth/forgot-password').set('X-Forwarded-For', clientIp()).send({ email });

  it('requests one mail per account per RESET_COOLDOWN_SECONDS, answering 202 alike to every request', async () => {
    const { app, config } = appWith({ trustedProxies: ['loopback'] });
    const s = await signUp(testApp());
    const answers = [
      await forgot(app, s.user.email).expect(202),
      await forgot(app, s.user.email.toUpperCase()).expect(202),
      await forgot(app, s.user.email).expect(202),
      await forgot(app, `${unique()}@example.com`).expect(202),
    ];
    for (const a of answers) expect(a.body).to.deep.equal(answers[0]?.body);
    expect(await jobsFor(s.user.id)).to.equal(1);
    const key = limiterKey(config, 'resetMail', s.user.id);
    expect(await testDeps().redis.pttl(key)).to.be.within(1, getConfig().rateLimits.resetCooldownSeconds * 1000);
    // The cooldown's end is its key's disappearance; deleting it stands in for waiting.
    await testDeps().redis.del(key);
    await forgot(app, s.user.email).expect(202);
    expect(await jobsFor(s.user.id)).to.equal(2);
  });
});

describe('pending reset links', () => {
  it('die when the password changes through PATCH /users/me', async () => {
    const s = await signUp(testApp());
    const token = await mintResetToken(s.user.id);
    await request(testApp())
      .patch('/users/me')
      .set(s.auth)
      .send({ password: 'changed-pass-1', current_password: PASSWORD })
      .expect(200);
    expect(await liveResetTokens(s.user.id)).to.equal(0);
    await reset(testApp(), token).expect(400);
  });

  it('die when the email changes through PATCH /users/me', async () => {
    const s = await signUp(testApp());
    const token = await mintResetToken(s.user.id);
    await request(testApp())
      .patch('/users/me')
      .set(s.auth)
      .send({ email: `${unique()}@example.com`, current_password: PASSWORD })
      .expect(200);
    await reset(testApp(), token).expect(400);
  });

  it("die when the platform admin sets the user's password or email", async () => {
    const root = await superuser(testApp());
    for (const change of [{ password: 'admin-set-pass-1' }, { email: `${unique()}@example.com` }]) {
      const s = await signUp(testApp());
      const token = await mintResetToken(s.user.id);
      await request(testApp()).patch(`/users/${s.user.id}`).set(root.auth).send(change).expect(200);
      await reset(testApp(), token).expect(400);
    }
  });

  it('survive a profile change that touches neither', async () => {
    const s = await signUp(testApp());
    const token = await mintResetToken(s.user.id);
    await request(testApp()).patch('/users/me').set(s.auth).send({ name: 'Renamed' }).expect(200);
    await reset(testApp(), token).expect(200);
  });

  it('are all spent by a reset, which leaves the user none', async () => {
    const s = await signUp(testApp());
    const token = await mintResetToken(s.user.id);
    await reset(testApp(), token).expect(200);
    expect(await liveResetTokens(s.user.id)).to.equal(0);
    await reset(testApp(), token).expect(400);
  });
});
