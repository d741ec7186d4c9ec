// Rate limits (auth, and manual reminder sends per workspace), kept in Redis with rate-limiter-flexible so they hold across API replicas. Each Redis limiter
// has an in-memory insurance limiter, so with Redis down a process limits on its own instead of failing.
//
// Login counts only failures. An attempt reserves its points before bcrypt and gives them back unless it turns out
// to be a wrong password: concurrent guesses cannot all slip past a check made before any of them failed, and a
// success never keeps a point. A success also resets the consecutive count.
//
// Every limit by address keys on clientKey (an IPv6 /64 is one client), and every limit by account on accountKey
// (the user's id when the account exists), so that neither a pool of addresses nor two spellings of one email buy a
// fresh budget.
import crypto from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import ipaddr from 'ipaddr.js';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '@nudge/config';
import type { Logger } from '@nudge/logger';
import type { Redis } from '@nudge/queue';
import { RateLimited } from '../errors/domain-errors';
import type { AuditLog } from './audit';

export const LOCKOUT_CAP_SECONDS = 3600;
const DAY = 86400;
const HOUR = 3600;

/** Limiter names; a limiter's Redis keys are `${REDIS_PREFIX}:rl:<name>:<key>`. */
export const LIMITERS = {
  consecutive: 'login-consecutive',
  lockout: 'login-lockout',
  ipDaily: 'login-ip-day',
  register: 'register-ip',
  forgot: 'forgot-ip',
  reset: 'reset-ip',
  accountFailures: 'login-account-hour',
  accountBrake: 'login-account-brake',
  passwordCheck: 'password-check',
  resetMail: 'reset-mail-cooldown',
  sendNow: 'send-now-workspace',
} as const;

/**
 * The client a request counts against: an IPv4 address as it is, an IPv6 address by its /64 (one subscriber's
 * network; a host there picks any of 2^64 addresses at will), and an IPv4-mapped IPv6 address as the IPv4 it maps.
 */
export function clientKey(ip: string): string {
  if (!ipaddr.isValid(ip)) return ip;
  const addr = ipaddr.process(ip);
  if (addr.kind() === 'ipv4') return addr.toString();
  const parts = (addr as ipaddr.IPv6).parts.slice(0, 4);
  return `${new ipaddr.IPv6([...parts, 0, 0, 0, 0]).toString()}/64`;
}

/**
 * The lower case PostgreSQL's lower() gives (one character for one, as towlower does), where JavaScript's full
 * mapping would turn `İ` into two: an unknown email then keys exactly as a known one matches.
 */
function simpleLowerCase(s: string): string {
  return Array.from(s, (c) => (c === '\u0130' ? 'i' : c.toLowerCase())).join('');
}

/** Who a login names: the user when the email belongs to one, else the email as the client typed it. */
export interface LoginAccount {
  email: string;
  userId?: string;
}

/**
 * An account's key: its user's id when it exists, so that every spelling the database matches to that user (case,
 * `İ` for `i`) shares one budget; otherwise the email, lowered the way the database matches it. Hashed, so that Redis
 * holds no email addresses and a key's size does not depend on what a client sends.
 */
export function accountKey(account: LoginAccount): string {
  const name = account.userId ? `user:${account.userId}` : `email:${simpleLowerCase(account.email)}`;
  return crypto.createHash('sha256').update(name).digest('base64url');
}

/** The key of an (account, client) pair, from accountKey and clientKey. */
export function loginAccountKey(account: string, client: string): string {
  return crypto.createHash('sha256').update(`${account}|${client}`).digest('base64url');
}

/** The lockout for an (account, IP) pair lasts base × 2^(failures − limit) seconds, capped at an hour. */
export function lockoutSeconds(failures: number, rates: Config['rateLimits']): number {
  return Math.ceil(Math.min(LOCKOUT_CAP_SECONDS, rates.lockoutBaseSeconds * 2 ** (failures - rates.loginFailures)));
}

/** The account brake's delay: base × 2^(failures − limit) seconds, capped at ACCOUNT_BRAKE_MAX_SECONDS. */
export function brakeSeconds(failures: number, rates: Config['rateLimits']): number {
  return Math.ceil(
    Math.min(rates.accountBrakeMaxSeconds, rates.accountBrakeBaseSeconds * 2 ** (failures - rates.accountFailures)),
  );
}

/** A reserved login attempt; exactly one of its methods is called, once the attempt's outcome is known. */
export interface LoginAttempt {
  /** A wrong password: the points stay. */
  failed(): Promise<void>;
  /** The right password: the consecutive count and any lockout are cleared. */
  succeeded(): Promise<void>;
  /** Neither (a full hashing pool, an outage): the points are given back. */
  abandoned(): Promise<void>;
}

/** A limiter kept in Redis under `${REDIS_PREFIX}:rl:<name>`, with an in-memory insurance limiter. */
function redisLimiter(
  redis: Redis,
  config: Pick<Config, 'redisPrefix'>,
  name: string,
  points: number,
  duration: number,
): RateLimiterRedis {
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${config.redisPrefix}:rl:${name}`,
    points,
    duration,
    // With Redis unreachable, go straight to the in-memory limiter rather than wait out ioredis's reconnects on
    // every request.
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix: name, points, duration }),
  });
}

function refusal(res: unknown): unknown {
  return res instanceof RateLimiterRes ? new RateLimited(res.msBeforeNext / 1000) : res;
}

export class AuthRateLimits {
  private readonly consecutive: RateLimiterRedis;
  private readonly lockout: RateLimiterRedis;
  private readonly ipDaily: RateLimiterRedis;
  private readonly registrations: RateLimiterRedis;
  private readonly forgotLimiter: RateLimiterRedis;
  private readonly resetLimiter: RateLimiterRedis;
  private readonly accountFailures: RateLimiterRedis;
  private readonly accountBrake: RateLimiterRedis;
  private readonly passwordChecks: RateLimiterRedis;
  private readonly resetMails: RateLimiterRedis;

  constructor(
    private readonly redis: Redis,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly audit: AuditLog,
  ) {
    const r = config.rateLimits;
    // The count of consecutive failures is remembered for a day from the first one; it only ever grows or resets.
    this.consecutive = this.limiter(LIMITERS.consecutive, Number.MAX_SAFE_INTEGER, DAY);
    // One point: the first attempt to take a free key holds it (for its own lockout's length); any other is refused.
    this.lockout = this.limiter(LIMITERS.lockout, 1, LOCKOUT_CAP_SECONDS);
    this.ipDaily = this.limiter(LIMITERS.ipDaily, r.loginIpPerDay, DAY);
    this.registrations = this.limiter(LIMITERS.register, r.registerPerHour, HOUR);
    this.forgotLimiter = this.limiter(LIMITERS.forgot, r.forgotPerHour, HOUR);
    this.resetLimiter = this.limiter(LIMITERS.reset, r.resetPerHour, HOUR);
    // An account's failures from every address, counted for an hour from the first one. Past the limit, each attempt
    // must hold the brake (one point, for the delay): the account is slowed, never locked.
    this.accountFailures = this.limiter(LIMITERS.accountFailures, Number.MAX_SAFE_INTEGER, HOUR);
    this.accountBrake = this.limiter(LIMITERS.accountBrake, 1, r.accountBrakeMaxSeconds);
    this.passwordChecks = this.limiter(LIMITERS.passwordCheck, r.passwordCheckFailures, 15 * 60);
    this.resetMails = this.limiter(LIMITERS.resetMail, 1, r.resetCooldownSeconds);
  }

  private limiter(name: string, points: number, duration: number): RateLimiterRedis {
    return redisLimiter(this.redis, this.config, name, points, duration);
  }

  /**
   * Runs before validation and any other work: refuses at once a client over its daily failures. The limits by
   * account need the account's user (reserveLogin, after one indexed read, still before any bcrypt work).
   */
  loginGate: RequestHandler = async (req, _res, next) => {
    const day = await this.ipDaily.get(clientKey(req.ip ?? ''));
    const wait = day && day.consumedPoints >= this.config.rateLimits.loginIpPerDay ? day.msBeforeNext : 0;
    next(wait > 0 ? new RateLimited(wait / 1000) : undefined);
  };

  /**
   * Reserves one login attempt's points (after validation and the user lookup, before bcrypt), or refuses it. The
   * caller reports the outcome on the answer: a wrong password keeps the points, a success resets the pair's count,
   * anything else (a full hashing pool, an outage) gives them back.
   */
  async reserveLogin(account: LoginAccount, ip: string): Promise<LoginAttempt> {
    const rates = this.config.rateLimits;
    const client = clientKey(ip);
    const acct = accountKey(account);
    const key = loginAccountKey(acct, client);
    await this.ipDaily.consume(client, 1).catch((res: unknown) => {
      throw refusal(res);
    });
    const [failures, accountFailures] = await Promise.all([
      this.consecutive.penalty(key, 1).then((r) => r.consumedPoints),
      this.accountFailures.penalty(acct, 1).then((r) => r.consumedPoints),
    ]);
    // From the limit on, each attempt must hold the lockout key: one at a time, and never while a lockout runs.
    const seconds = failures >= rates.loginFailures ? lockoutSeconds(failures, rates) : 0;
    // Likewise the account's brake, whatever the address: a distributed guess gets one attempt per delay.
    const brake = accountFailures >= rates.accountFailures ? brakeSeconds(accountFailures, rates) : 0;
    const held = { lock: false, brake: false };
    const hold = async (limiter: RateLimiterRedis, k: string, duration: number, which: keyof typeof held) => {
      try {
        await limiter.consume(k, 1, { customDuration: duration });
        held[which] = true;
      } catch (res) {
        await this.giveBack(client, key, acct, held);
        throw refusal(res);
      }
    };
    if (seconds > 0) await hold(this.lockout, key, seconds, 'lock');
    if (brake > 0) await hold(this.accountBrake, acct, brake, 'brake');
    return {
      failed: async () => {
        // The lockout and the brake taken above stay, for their full length.
        if (seconds > 0)
          await this.audit.accountEvent('login_lockout', account.email, { ip, details: { seconds, failures } });
      },
      succeeded: async () => {
        // The account's failures from other addresses stay counted: the owner's success is no one else's reset.
        await Promise.all([
          this.consecutive.delete(key),
          held.lock ? this.lockout.delete(key) : undefined,
          held.brake ? this.accountBrake.delete(acct) : undefined,
          this.ipDaily.reward(client, 1),
          this.accountFailures.reward(acct, 1),
        ]);
      },
      abandoned: () => this.giveBack(client, key, acct, held),
    };
  }

  /** Returns an attempt's points when it was not a wrong password (a refusal, a full hashing pool, an outage). */
  private async giveBack(
    client: string,
    key: string,
    acct: string,
    held: { lock: boolean; brake: boolean },
  ): Promise<void> {
    try {
      await Promise.all([
        this.ipDaily.reward(client, 1),
        this.consecutive.reward(key, 1),
        this.accountFailures.reward(acct, 1),
        held.lock ? this.lockout.delete(key) : undefined,
        held.brake ? this.accountBrake.delete(acct) : undefined,
      ]);
    } catch (err) {
      this.logger.warn('could not give back login rate-limit points', { err });
    }
  }

  /**
   * Runs `check` (a `current_password` compare) unless the user has had RATE_LIMIT_PASSWORD_CHECK_FAILURES wrong ones
   * in 15 minutes. The point is taken before the compare, so that concurrent guesses cannot all pass, and given back
   * unless the password was wrong.
   */
  async checkPassword(userId: string, check: () => Promise<boolean>): Promise<boolean> {
    await this.passwordChecks.consume(userId, 1).catch((res: unknown) => {
      throw refusal(res);
    });
    let ok: boolean;
    try {
      ok = await check();
    } catch (err) {
      await this.passwordChecks.reward(userId, 1);
      throw err;
    }
    if (ok) await this.passwordChecks.reward(userId, 1);
    return ok;
  }

  /** True at most once per RESET_COOLDOWN_SECONDS for a user: whether a reset mail may go out now. */
  async claimResetMail(userId: string): Promise<boolean> {
    try {
      await this.resetMails.consume(userId, 1);
      return true;
    } catch (res) {
      if (res instanceof RateLimiterRes) return false;
      throw res;
    }
  }

  /** Gives the cooldown back when the mail could not be requested after all. */
  async releaseResetMail(userId: string): Promise<void> {
    await this.resetMails.delete(userId);
  }

  /**
   * Registration, forgot-password and reset-password count every attempt by client: the first two can probe for
   * accounts, the last guesses tokens.
   */
  register: RequestHandler = (req, _res, next) => this.consumeOrRefuse(this.registrations, req, next);
  forgot: RequestHandler = (req, _res, next) => this.consumeOrRefuse(this.forgotLimiter, req, next);
  reset: RequestHandler = (req, _res, next) => this.consumeOrRefuse(this.resetLimiter, req, next);

  private async consumeOrRefuse(l: RateLimiterAbstract, req: Request, next: (err?: unknown) => void): Promise<void> {
    try {
      await l.consume(clientKey(req.ip ?? ''), 1);
      next();
    } catch (res) {
      next(refusal(res));
    }
  }
}

/** Manual reminder sends: REMINDER_SEND_NOW_PER_MINUTE per workspace, every call counted. */
export class SendNowRateLimit {
  private readonly perWorkspace: RateLimiterRedis;

  constructor(redis: Redis, config: Config) {
    this.perWorkspace = redisLimiter(redis, config, LIMITERS.sendNow, config.reminderSendNowPerMinute, 60);
  }

  async consume(workspaceId: string): Promise<void> {
    await this.perWorkspace.consume(workspaceId, 1).catch((res: unknown) => {
      throw refusal(res);
    });
  }
}
