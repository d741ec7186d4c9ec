// Rate limits (auth, and manual reminder sends per workspace), kept in Redis with rate-limiter-flexible so they hold across API replicas. Each Redis limiter
// has an in-memory insurance limiter, so with Redis down a process limits on its own instead of failing.
//
// Login counts only failures. An attempt reserves its points before bcrypt and gives them back unless it turns out
// to be a wrong password: concurrent guesses cannot all slip past a check made before any of them failed, and a
// success never keeps a point. A success also resets the consecutive count.
import crypto from 'node:crypto';
import type { Request, RequestHandler } from 'express';
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
  sendNow: 'send-now-workspace',
} as const;

/**
 * The key of an (account, IP) pair: hashed, so that Redis holds no email addresses and a key's size does not depend
 * on what a client sends (the gate reads the body before validation).
 */
export function loginAccountKey(account: string, ip: string): string {
  return crypto.createHash('sha256').update(`${account.trim().toLowerCase()}|${ip}`).digest('base64url');
}

/** The lockout for an (account, IP) pair lasts base × 2^(failures − limit) seconds, capped at an hour. */
export function lockoutSeconds(failures: number, rates: Config['rateLimits']): number {
  return Math.ceil(Math.min(LOCKOUT_CAP_SECONDS, rates.lockoutBaseSeconds * 2 ** (failures - rates.loginFailures)));
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
  }

  private limiter(name: string, points: number, duration: number): RateLimiterRedis {
    return redisLimiter(this.redis, this.config, name, points, duration);
  }

  /**
   * Runs before validation and any bcrypt work: refuses at once an (account, IP) that is locked out, or an IP over
   * its daily failures. reserveLogin makes the same checks atomically; this one only sheds the load early.
   */
  loginGate: RequestHandler = async (req, _res, next) => {
    const body = (req.body ?? {}) as { username?: unknown; email?: unknown };
    const account =
      typeof body.username === 'string' ? body.username : typeof body.email === 'string' ? body.email : '';
    const ip = req.ip ?? '';
    const [day, lock] = await Promise.all([
      this.ipDaily.get(ip),
      account ? this.lockout.get(loginAccountKey(account, ip)) : null,
    ]);
    const wait = Math.max(
      day && day.consumedPoints >= this.config.rateLimits.loginIpPerDay ? day.msBeforeNext : 0,
      lock && lock.consumedPoints >= 1 ? lock.msBeforeNext : 0,
    );
    next(wait > 0 ? new RateLimited(wait / 1000) : undefined);
  };

  /**
   * Reserves one login attempt's points (after validation, before bcrypt), or refuses it. The caller reports the
   * outcome on the answer: a wrong password keeps the points, a success resets the count, anything else (a full
   * hashing pool, an outage) gives them back.
   */
  async reserveLogin(account: string, ip: string): Promise<LoginAttempt> {
    const { loginFailures } = this.config.rateLimits;
    const key = loginAccountKey(account, ip);
    await this.ipDaily.consume(ip, 1).catch((res: unknown) => {
      throw refusal(res);
    });
    const failures = (await this.consecutive.penalty(key, 1)).consumedPoints;
    // From the limit on, each attempt must hold the lockout key: one at a time, and never while a lockout runs.
    const seconds = failures >= loginFailures ? lockoutSeconds(failures, this.config.rateLimits) : 0;
    if (seconds > 0) {
      try {
        await this.lockout.consume(key, 1, { customDuration: seconds });
      } catch (res) {
        await this.giveBack(ip, key, false);
        throw refusal(res);
      }
    }
    return {
      failed: async () => {
        // The lockout taken above stays, for its full length.
        if (seconds > 0)
          await this.audit.accountEvent('login_lockout', account, { ip, details: { seconds, failures } });
      },
      succeeded: async () => {
        await Promise.all([
          this.consecutive.delete(key),
          seconds > 0 ? this.lockout.delete(key) : undefined,
          this.ipDaily.reward(ip, 1),
        ]);
      },
      abandoned: () => this.giveBack(ip, key, seconds > 0),
    };
  }

  /** Returns an attempt's points when it was not a wrong password (a refusal, a full hashing pool, an outage). */
  private async giveBack(ip: string, key: string, heldLock: boolean): Promise<void> {
    try {
      await Promise.all([
        this.ipDaily.reward(ip, 1),
        this.consecutive.reward(key, 1),
        heldLock ? this.lockout.delete(key) : undefined,
      ]);
    } catch (err) {
      this.logger.warn('could not give back login rate-limit points', { err });
    }
  }

  /** Registration and forgot-password count every attempt by IP: both can be used to probe for accounts. */
  register: RequestHandler = (req, _res, next) => this.consumeOrRefuse(this.registrations, req, next);
  forgot: RequestHandler = (req, _res, next) => this.consumeOrRefuse(this.forgotLimiter, req, next);

  private async consumeOrRefuse(l: RateLimiterAbstract, req: Request, next: (err?: unknown) => void): Promise<void> {
    try {
      await l.consume(req.ip ?? '', 1);
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
