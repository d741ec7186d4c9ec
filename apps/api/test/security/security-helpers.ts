// Apps with their own configuration for the security suites. Each gets its own Redis namespace (under the run's
// REDIS_PREFIX, so the run's clean-up removes it), so its rate-limit counters start at zero and no other suite's
// requests count against them.
import crypto from 'node:crypto';
import type { Express } from 'express';
import { getConfig, type Config } from '@nudge/config';
import { hashPassword, verifyPassword, type HashLane } from '@nudge/crypto';
import { createApp, type AppDeps } from '../../src/index';
import { LIMITERS } from '../../src/services/rate-limits';
import { createPasswords, type Passwords } from '../../src/auth/passwords';
import { testDeps, unique } from '../helpers';

export type ConfigOverrides = Partial<Omit<Config, 'rateLimits'>> & { rateLimits?: Partial<Config['rateLimits']> };

export function configWith(over: ConfigOverrides = {}): Config {
  const base = getConfig();
  return {
    ...base,
    redisPrefix: `${base.redisPrefix}:${unique('sec')}`,
    ...over,
    rateLimits: { ...base.rateLimits, ...over.rateLimits },
  };
}

/** An app on the real test dependencies, with configuration overrides (and dependency overrides when given). */
export function appWith(over: ConfigOverrides = {}, deps: Partial<AppDeps> = {}): { app: Express; config: Config } {
  const config = configWith(over);
  return { app: createApp({ ...testDeps(), ...deps, config }), config };
}

/** A client address from the benchmarking range, different on each call; sent as X-Forwarded-For. */
export function clientIp(): string {
  const [a = 0, b = 0] = crypto.randomBytes(2);
  return `198.${18 + (a % 2)}.${b}.${1 + crypto.randomInt(254)}`;
}

/** The Redis key a limiter of this app keeps for key. */
export function limiterKey(config: Config, limiter: keyof typeof LIMITERS, key: string): string {
  return `${config.redisPrefix}:rl:${LIMITERS[limiter]}:${key}`;
}

/** One piece of bcrypt work the app asked the hashing pool for, and the lane it waited in. */
export interface PoolCall {
  op: 'hash' | 'verify';
  lane: HashLane;
}

/**
 * The app's own password seam over the real shared pool, recording every call that reaches the pool: passed as the
 * `passwords` dependency, it shows how much bcrypt work a request caused and in which lane.
 */
export function countingPasswords(): { passwords: Passwords; calls: PoolCall[] } {
  const calls: PoolCall[] = [];
  const passwords = createPasswords(getConfig().bcryptCost, {
    hash: (p, c, lane) => {
      calls.push({ op: 'hash', lane });
      return hashPassword(p, c, lane);
    },
    verify: (p, h, lane) => {
      calls.push({ op: 'verify', lane });
      return verifyPassword(p, h, lane);
    },
  });
  return { passwords, calls };
}
