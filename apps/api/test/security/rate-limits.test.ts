import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import type { Config } from '@nudge/config';
import { createRedis } from '@nudge/queue';
import { accountKey, loginAccountKey } from '../../src/services/rate-limits';
import { testApp, testDeps, signUp, unique, PASSWORD } from '../helpers';
import { appWith, clientIp, limiterKey } from './security-helpers';

const redis = () => testDeps().redis;
const LOOPBACK = ['loopback'];

function loginAs(app: Express, ip: string, username: string, password: string) {
  return request(app).post('/auth/jwt/login').set('X-Forwarded-For', ip).send({ username, password });
}

/** A 429 whose Retry-After is the lock's length in whole seconds (one less if a second passed since it began). */
function expectRefused(res: request.Response, seconds: number) {
  expect(res.status).to.equal(429);
  expect(res.body).to.deep.equal({ detail: 'Too Many Requests', code: 'RATE_LIMITED' });
  expect(res.headers['retry-after']).to.match(/^\d+$/);
  expect(Number(res.headers['retry-after'])).to.be.within(Math.max(1, seconds - 1), seconds);
}

describe('auth rate limits', () => {
  before(async () => {
    // The limiters use Redis only once the client is ready (until then, the in-memory insurance limiter).
    await redis().ping();
  });

  describe('POST /auth/jwt/login', () => {
    let app: Express;
    let config: Config;
    let email: string;
    let userId: string;
    let ip: string;
    const pairKey = () => loginAccountKey(accountKey({ email, userId }), ip);
    const lockKey = () => limiterKey(config, 'lockout', pairKey());
    const countKey = () => limiterKey(config, 'consecutive', pairKey());
    const fail = () => loginAs(app, ip, email, 'wrong-password');
    const succeed = () => loginAs(app, ip, email, PASSWORD);

    beforeEach(async () => {
      ({ app, config } = appWith({
        trustedProxies: LOOPBACK,
        rateLimits: { loginFailures: 3, lockoutBaseSeconds: 2 },
      }));
      ({ email, id: userId } = (await signUp(testApp())).user);
      ip = clientIp();
    });

    it('locks an (account, IP) out after RATE_LIMIT_LOGIN_FAILURES failures, even for the right password, with Retry-After', async () => {
      for (let i = 0; i < 3; i += 1) expect((await fail()).body.code).to.equal('LOGIN_BAD_CREDENTIALS');
      expectRefused(await succeed(), 2);
      expectRefused(await fail(), 2);
      // Only that pair: the account from another IP, and another account from that IP, still get in.
      await loginAs(app, clientIp(), email, PASSWORD).expect(200);
      await loginAs(app, ip, (await signUp(testApp())).user.email, PASSWORD).expect(200);
    });

    it('doubles the lockout with each failure after it expires, up to an hour', async () => {
      for (let i = 0; i < 3; i += 1) await fail().expect(400);
      const pttl = await redis().pttl(lockKey());
      expect(pttl).to.be.within(1, 2000);
      // Expiry is the key's disappearance; deleting it stands in for waiting it out.
      for (const seconds of [4, 8, 16]) {
        await redis().del(lockKey());
        await fail().expect(400);
        expectRefused(await succeed(), seconds);
        expect(await redis().pttl(lockKey())).to.be.within((seconds / 2) * 1000 + 1, seconds * 1000);
      }
      // Forty failures in, the doubling has long passed the cap.
      await redis().del(lockKey());
      await redis().set(countKey(), '40', 'KEEPTTL');
      await fail().expect(400);
      expectRefused(await succeed(), 3600);
    });

    it('lets no more than RATE_LIMIT_LOGIN_FAILURES concurrent guesses reach the password check', async () => {
      const answers = await Promise.all(Array.from({ length: 12 }, () => fail()));
      const statuses = answers.map((r) => r.status);
      expect(statuses.filter((s) => s === 400)).to.have.length(3);
      expect(statuses.filter((s) => s === 429)).to.have.length(9);
    });

    it('resets the consecutive count on a success', async () => {
      await fail().expect(400);
      await fail().expect(400);
      await succeed().expect(200);
      expect(await redis().exists(countKey())).to.equal(0);
      await fail().expect(400);
      await fail().expect(400);
      await succeed().expect(200);
    });

    it('never takes a point for a success', async () => {
      for (let i = 0; i < 5; i += 1) await succeed().expect(200);
      expect(await redis().exists(countKey())).to.equal(0);
      const day = await redis().get(limiterKey(config, 'ipDaily', ip));
      expect(Number(day ?? 0)).to.equal(0);
      await fail().expect(400);
      expect(await redis().get(limiterKey(config, 'ipDaily', ip))).to.equal('1');
      expect(await redis().get(countKey())).to.equal('1');
    });
  });

  describe('failures per IP per day', () => {
    it('refuses every login from an IP after RATE_LIMIT_LOGIN_IP_PER_DAY failures, with Retry-After', async () => {
      const { app, config } = appWith({ trustedProxies: LOOPBACK, rateLimits: { loginIpPerDay: 3 } });
      const ip = clientIp();
      const email = (await signUp(testApp())).user.email;
      for (let i = 0; i < 3; i += 1) await loginAs(app, ip, `${unique()}@example.com`, PASSWORD).expect(400);
      const res = await loginAs(app, ip, email, PASSWORD).expect(429);
      expect(Number(res.headers['retry-after'])).to.be.within(86400 - 60, 86400);
      expect(await redis().pttl(limiterKey(config, 'ipDaily', ip))).to.be.within((86400 - 60) * 1000, 86400 * 1000);
      await loginAs(app, clientIp(), email, PASSWORD).expect(200);
    });
  });

  describe('POST /auth/register', () => {
    it('refuses an IP after RATE_LIMIT_REGISTER_PER_HOUR attempts, valid or not, with Retry-After', async () => {
      const { app } = appWith({ trustedProxies: LOOPBACK, rateLimits: { registerPerHour: 2 } });
      const ip = clientIp();
      const register = (body: object) => request(app).post('/auth/register').set('X-Forwarded-For', ip).send(body);
      const valid = () => ({ email: `${unique()}@example.com`, password: PASSWORD, date_of_birth: '1990-01-01' });
      await register(valid()).expect(201);
      await register({}).expect(422);
      const res = await register(valid()).expect(429);
      expect(Number(res.headers['retry-after'])).to.be.within(3600 - 60, 3600);
      await request(app).post('/auth/register').set('X-Forwarded-For', clientIp()).send(valid()).expect(201);
    });
  });

  describe('POST /auth/forgot-password', () => {
    it('refuses an IP after RATE_LIMIT_FORGOT_PER_HOUR attempts, with Retry-After', async () => {
      const { app } = appWith({ trustedProxies: LOOPBACK, rateLimits: { forgotPerHour: 2 } });
      const ip = clientIp();
      const forgot = () =>
        request(app)
          .post('/auth/forgot-password')
          .set('X-Forwarded-For', ip)
          .send({ email: `${unique()}@example.com` });
      await forgot().expect(202);
      await forgot().expect(202);
      const res = await forgot().expect(429);
      expect(Number(res.headers['retry-after'])).to.be.within(3600 - 60, 3600);
    });
  });

  describe('the client IP', () => {
    const twoFromDifferentForwardedIps = async (app: Express) => {
      const first = await request(app).post('/auth/register').set('X-Forwarded-For', clientIp()).send({});
      const second = await request(app).post('/auth/register').set('X-Forwarded-For', clientIp()).send({});
      return [first.status, second.status];
    };

    it('comes from X-Forwarded-For when the peer is in TRUSTED_PROXIES', async () => {
      expect(
        await twoFromDifferentForwardedIps(
          appWith({ trustedProxies: LOOPBACK, rateLimits: { registerPerHour: 1 } }).app,
        ),
      ).to.deep.equal([422, 422]);
    });

    it('is the peer itself otherwise, whatever X-Forwarded-For says', async () => {
      expect(
        await twoFromDifferentForwardedIps(appWith({ trustedProxies: [], rateLimits: { registerPerHour: 1 } }).app),
      ).to.deep.equal([422, 429]);
      expect(
        await twoFromDifferentForwardedIps(
          appWith({ trustedProxies: ['10.20.30.40'], rateLimits: { registerPerHour: 1 } }).app,
        ),
      ).to.deep.equal([422, 429]);
    });
  });

  describe('with Redis down', () => {
    it('limits in memory instead, and never answers 500', async function () {
      this.timeout(30_000);
      const dead = createRedis('client', 'redis://127.0.0.1:1');
      try {
        const { app, config } = appWith(
          { trustedProxies: LOOPBACK, rateLimits: { loginFailures: 2, registerPerHour: 1, forgotPerHour: 1 } },
          { redis: dead },
        );
        const email = (await signUp(testApp())).user.email;
        const ip = clientIp();
        await loginAs(app, ip, email, 'wrong-password').expect(400);
        await loginAs(app, ip, email, 'wrong-password').expect(400);
        expectRefused(await loginAs(app, ip, email, PASSWORD), 60);
        await loginAs(app, clientIp(), email, PASSWORD).expect(200);

        const register = () =>
          request(app)
            .post('/auth/register')
            .set('X-Forwarded-For', ip)
            .send({ email: `${unique()}@example.com`, password: PASSWORD, date_of_birth: '1990-01-01' });
        await register().expect(201);
        expect((await register()).status).to.equal(429);

        const forgot = () => request(app).post('/auth/forgot-password').set('X-Forwarded-For', ip).send({ email });
        await forgot().expect(202);
        expect((await forgot()).status).to.equal(429);

        // Nothing reached the real Redis: all of it was counted in this process.
        expect(await redis().keys(`${config.redisPrefix}:*`)).to.deep.equal([]);
      } finally {
        dead.disconnect();
      }
    });
  });
});
