// Auth rate limits, kept in Redis with rate-limiter-flexible so they hold across API replicas. Each Redis limiter
// has an in-memory insurance limiter, so with Redis down a process limits on its own instead of failing.
// Login counts only failures: a success never consumes a point and resets the consecutive count.
import type { Request, RequestHandler } from 'express';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { Config } from '@nudge/config';
import type { Logger } from '@nudge/logger';
import { getConfig } from '@nudge/config';
import type { Redis } from '@nudge/queue';
import { HttpError, RateLimited } from '../http/errors';
import type { AuditLog } from './audit';

const LOCKOUT_CAP_SECONDS = 3600;

function limiter(redis: Redis, keyPrefix: string, points: number, duration: number): RateLimiterRedis {
  return new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${getConfig().redisPrefix}:rl:${keyPrefix}`,
    points,
    duration,
    insuranceLimiter: new RateLimiterMemory({ keyPrefix, points, duration }),
  });
}

function retryAfter(res: unknown): number {
  return res instanceof RateLimiterRes ? res.msBeforeNext / 1000 : 1;
}

async function blockedFor(l: RateLimiterAbstract, key: string, max: number): Promise<number> {
  const res = await l.get(key);
  return res && res.consumedPoints >= max ? res.msBeforeNext / 1000 : 0;
}

export class AuthRateLimits {
  private readonly consecutive: RateLimiterRedis;
  private readonly lockout: RateLimiterRedis;
  private readonly ipDaily: RateLimiterRedis;
  private readonly registrations: RateLimiterRedis;
  private readonly forgotLimiter: RateLimiterRedis;

  constructor(
    redis: Redis,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly audit: AuditLog,
  ) {
    const r = config.rateLimits;
    // Consecutive failures are remembered for a day; the lockout key holds the current lock.
    this.consecutive = limiter(redis, 'login-consecutive', 1_000_000, 86400);
    this.lockout = limiter(redis, 'login-lockout', 1, LOCKOUT_CAP_SECONDS);
    this.ipDaily = limiter(redis, 'login-ip-day', r.loginIpPerDay, 86400);
    this.registrations = limiter(redis, 'register-ip', r.registerPerHour, 3600);
    this.forgotLimiter = limiter(redis, 'forgot-ip', r.forgotPerHour, 3600);
  }

  private static accountKey(req: Request, account: string): string {
    return `${account.trim().toLowerCase()}|${req.ip ?? ''}`;
  }

  /** Runs before validation and before any bcrypt work: refuses a locked (account, IP) or an IP over its daily cap. */
  loginGate: RequestHandler = async (req, _res, next) => {
    const body = (req.body ?? {}) as { username?: unknown; email?: unknown };
    const account = typeof body.username === 'string' ? body.username : typeof body.email === 'string' ? body.email : '';
    const wait = Math.max(await blockedFor(this.ipDaily, req.ip ?? '', this.config.rateLimits.loginIpPerDay), account ? await blockedFor(this.lockout, AuthRateLimits.accountKey(req, account), 1) : 0);
    next(wait > 0 ? new RateLimited(wait) : undefined);
  };

  async guardLogin<T>(req: Request, account: string, attempt: () => Promise<T>): Promise<T> {
    const key = AuthRateLimits.accountKey(req, account);
    try {
      const result = await attempt();
      await this.consecutive.delete(key);
      return result;
    } catch (err) {
      if (err instanceof HttpError && err.code === 'LOGIN_BAD_CREDENTIALS') await this.countFailure(req, key);
      throw err;
    }
  }

  private async countFailure(req: Request, key: string): Promise<void> {
    const { loginFailures, lockoutBaseSeconds } = this.config.rateLimits;
    await this.ipDaily.penalty(req.ip ?? '', 1);
    const res = await this.consecutive.penalty(key, 1);
    if (res.consumedPoints >= loginFailures) {
      // The lock starts at the base and doubles with each further failure, up to an hour.
      const seconds = Math.min(LOCKOUT_CAP_SECONDS, lockoutBaseSeconds * 2 ** (res.consumedPoints - loginFailures));
      await this.lockout.block(key, seconds);
      await this.audit.event('login_lockout', { workspaceId: null, ip: req.ip, details: { seconds } });
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
      next(res instanceof Error ? res : new RateLimited(retryAfter(res)));
    }
  }
}
