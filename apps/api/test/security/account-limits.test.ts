// The limits an attacker cannot walk around with more addresses: the account brake (failed logins on one account
// from anywhere slow every further attempt on it, without locking its owner out), the current_password limiter, and
// client addresses keyed so that an IPv6 /64 is one client.
import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import type { Config } from '@nudge/config';
import { accountKey, clientKey } from '../../src/services/rate-limits';
import { testApp, testDeps, signUp, unique, PASSWORD } from '../helpers';
import { appWith, clientIp, countingPasswords, limiterKey, type PoolCall } from './security-helpers';

const redis = () => testDeps().redis;

function loginFrom(app: Express, ip: string, username: string, password: string) {
  return request(app).post('/auth/jwt/login').set('X-Forwarded-For', ip).send({ username, password });
}

/** A 429 whose Retry-After is the delay in whole seconds (one less if a second passed since it began). */
function expectBraked(res: request.Response, seconds: number) {
  expect(res.status).to.equal(429);
  expect(res.body).to.deep.equal({ detail: 'Too Many Requests', code: 'RATE_LIMITED' });
  expect(Number(res.headers['retry-after'])).to.be.within(seconds - 1, seconds);
}

describe('the account brake on POST /auth/jwt/login', () => {
  let app: Express;
  let config: Config;
  let calls: PoolCall[];
  let email: string;
  let userId: string;
  const brakeKey = () => limiterKey(config, 'accountBrake', accountKey({ email, userId }));
  /** A guess from an address never seen before: no per-address limit can stop it. */
  const guess = (username = email) => loginFrom(app, clientIp(), username, 'wrong-password');

  beforeEach(async () => {
    const counting = countingPasswords();
    calls = counting.calls;
    ({ app, config } = appWith(
      {
        trustedProxies: ['loopback'],
        rateLimits: { accountFailures: 3, accountBrakeBaseSeconds: 60, accountBrakeMaxSeconds: 300 },
      },
      { passwords: counting.passwords },
    ));
    ({ email, id: userId } = (await signUp(testApp())).user);
  });

  it('refuses, from any address and without a password check, every attempt within the delay after RATE_LIMIT_ACCOUNT_FAILURES failures', async () => {
    for (let i = 0; i < 3; i += 1) await guess().expect(400);
    const compares = calls.length;
    for (let i = 0; i < 5; i += 1) expectBraked(await guess(), 60);
    // A distributed guess gained nothing: not one more password was compared.
    expect(calls.length).to.equal(compares);
    // Other accounts are not slowed.
    const other = (await signUp(testApp())).user.email;
    await loginFrom(app, clientIp(), other, PASSWORD).expect(200);
  });

  it('lets the owner in with the right password once the delay has passed', async () => {
    for (let i = 0; i < 3; i += 1) await guess().expect(400);
    const ownIp = clientIp();
    expectBraked(await loginFrom(app, ownIp, email, PASSWORD), 60);
    // The delay's end is its key's disappearance; deleting it stands in for waiting.
    await redis().del(brakeKey());
    await loginFrom(app, ownIp, email, PASSWORD).expect(200);
  });

  it('doubles the delay with each further failure, up to ACCOUNT_BRAKE_MAX_SECONDS', async () => {
    for (let i = 0; i < 3; i += 1) await guess().expect(400);
    expect(await redis().pttl(brakeKey())).to.be.within(59_000, 60_000);
    for (const seconds of [120, 240, 300, 300]) {
      await redis().del(brakeKey());
      await guess().expect(400);
      expectBraked(await loginFrom(app, clientIp(), email, PASSWORD), seconds);
      expect(await redis().pttl(brakeKey())).to.be.within((seconds - 1) * 1000, seconds * 1000);
    }
  });

  it('counts every spelling of one account against one budget (case, and İ for i)', async () => {
    // An address with an `i` in it, spelled three ways that PostgreSQL matches to one account.
    const user = await signUp(testApp());
    const [local, domain] = user.user.email.split('@') as [string, string];
    email = `i${local}@${domain}`;
    await testDeps().db('users').where({ id: user.user.id }).update({ email });
    userId = user.user.id;
    await guess(email).expect(400);
    await guess(email.toUpperCase()).expect(400);
    await guess(`İ${local}@${domain}`).expect(400);
    expectBraked(await guess(email), 60);
    expectBraked(await guess(`İ${local.toUpperCase()}@${domain}`), 60);
  });

  it('brakes an unknown email exactly as a known one, its spellings sharing one budget too', async () => {
    const local = unique('i');
    await guess(`${local}@example.com`).expect(400);
    await guess(`${local.toUpperCase()}@EXAMPLE.COM`).expect(400);
    await guess(`İ${local.slice(1)}@example.com`).expect(400);
    expectBraked(await guess(`${local}@example.com`), 60);
  });
});

describe('PATCH /users/me current_password', () => {
  const change = (s: { auth: { Authorization: string } }, current: string) =>
    request(testApp())
      .patch('/users/me')
      .set(s.auth)
      .send({ email: `${unique()}@example.com`, current_password: current });

  it('answers 429 with Retry-After from the 6th wrong password in 15 minutes, even to the right one', async () => {
    const s = await signUp(testApp());
    for (let i = 0; i < 5; i += 1) {
      const res = await change(s, 'wrong-password').expect(400);
      expect(res.body.code).to.equal('UPDATE_USER_INVALID_PASSWORD');
    }
    const sixth = await change(s, 'wrong-password').expect(429);
    expect(sixth.body).to.deep.equal({ detail: 'Too Many Requests', code: 'RATE_LIMITED' });
    expect(Number(sixth.headers['retry-after'])).to.be.within(15 * 60 - 60, 15 * 60);
    await change(s, PASSWORD).expect(429);
    // Only that user: another one's check is untouched.
    await change(await signUp(testApp()), PASSWORD).expect(200);
  });

  it('counts only wrong passwords', async () => {
    const s = await signUp(testApp());
    for (let i = 0; i < 4; i += 1) await change(s, 'wrong-password').expect(400);
    for (let i = 0; i < 3; i += 1) await change(s, PASSWORD).expect(200);
    await change(s, 'wrong-password').expect(400);
    await change(s, 'wrong-password').expect(429);
  });

  it('checks in the hashing pool’s other lane, so that it never takes a login’s place', async () => {
    const { passwords, calls } = countingPasswords();
    const { app } = appWith({}, { passwords });
    const s = await signUp(testApp());
    await request(app)
      .patch('/users/me')
      .set(s.auth)
      .send({ password: 'changed-pass-1', current_password: PASSWORD })
      .expect(200);
    expect(calls).to.deep.equal([
      { op: 'verify', lane: 'other' },
      { op: 'hash', lane: 'other' },
    ]);
    calls.length = 0;
    await request(app).post('/auth/jwt/login').send({ username: s.user.email, password: 'changed-pass-1' }).expect(200);
    expect(calls).to.deep.equal([{ op: 'verify', lane: 'login' }]);
  });
});

describe('client addresses', () => {
  it('are IPv4 as they are, IPv6 by /64, and IPv4-mapped IPv6 as its IPv4', () => {
    expect(clientKey('198.18.0.7')).to.equal('198.18.0.7');
    expect(clientKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).to.equal('2001:db8:1:2::/64');
    expect(clientKey('2001:0db8:0001:0002::1')).to.equal('2001:db8:1:2::/64');
    expect(clientKey('2001:db8:1:3::1')).to.equal('2001:db8:1:3::/64');
    expect(clientKey('::ffff:198.18.0.7')).to.equal('198.18.0.7');
  });

  it('share one budget across an IPv6 /64, and an IPv4-mapped address shares its IPv4’s', async () => {
    const { app } = appWith({ trustedProxies: ['loopback'], rateLimits: { forgotPerHour: 2 } });
    const forgot = (ip: string) =>
      request(app)
        .post('/auth/forgot-password')
        .set('X-Forwarded-For', ip)
        .send({ email: `${unique()}@example.com` });
    const net = `2001:db8:${Math.floor(Math.random() * 0xffff).toString(16)}:7`;
    await forgot(`${net}::1`).expect(202);
    await forgot(`${net}:ffff:1:2:3`).expect(202);
    await forgot(`${net}:1234::9`).expect(429);
    await forgot(`${net.replace(/:7$/, ':8')}::1`).expect(202);

    const v4 = clientIp();
    await forgot(v4).expect(202);
    await forgot(`::ffff:${v4}`).expect(202);
    await forgot(v4).expect(429);
  });
});
