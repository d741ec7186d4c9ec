// Redis connections as BullMQ's production guide prescribes: workers block forever and must never give up on a
// command (maxRetriesPerRequest: null); producers and plain clients fail fast so an API request never hangs.
import { Redis, type RedisOptions } from 'ioredis';
import { getConfig } from '@nudge/config';

export type ConnectionRole = 'worker' | 'producer' | 'client';

export function redisOptions(role: ConnectionRole): RedisOptions {
  if (role === 'worker') {
    return { maxRetriesPerRequest: null, enableReadyCheck: false, retryStrategy: (n) => Math.min(n * 200, 5000) };
  }
  // The command timeout bounds what one request pays when Redis stops answering without dropping the connection;
  // the API's circuit (circuit.ts) then spares the requests after it.
  const timeout = getConfig().redisCommandTimeoutMs;
  const failFast: RedisOptions = {
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    commandTimeout: timeout,
    retryStrategy: (n) => Math.min(n * 200, 2000),
  };
  // BullMQ's Queue waits for the connection to be ready itself, so a producer may refuse to queue commands
  // offline; a plain client keeps a short offline queue so its first command does not race the connect.
  // No auto-pipelining on a plain client: it raised the cached read's rate a little, but /health's p99 under ten
  // logins (bench/login-timing.ts) went past 3× its unloaded p99 in three runs of seven with it, none of five without.
  return role === 'producer' ? { ...failFast, enableOfflineQueue: false } : failFast;
}

export function createRedis(role: ConnectionRole, url: string = getConfig().redisUrl): Redis {
  const redis = new Redis(url, { ...redisOptions(role), lazyConnect: false });
  // An unhandled 'error' event would crash the process; connection loss is reported by /ready and retried.
  redis.on('error', () => undefined);
  return redis;
}

/** Every BullMQ key lives under the configured prefix, so test runs and tenants of one Redis never collide. */
export function bullPrefix(): string {
  return `${getConfig().redisPrefix}:bull`;
}

/** A key in the application's own namespace (cache, rate limits, denylist). */
export function appKey(...parts: string[]): string {
  return [getConfig().redisPrefix, ...parts].join(':');
}

/** Answers whether Redis replies to PING within the timeout; used by /ready. */
export async function pingRedis(redis: Redis, timeoutMs = 1000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    const pong = await Promise.race([
      redis.ping(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return pong === 'PONG';
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** BullMQ loses jobs silently under any eviction policy but noeviction; say so loudly at start-up. */
export async function checkEvictionPolicy(redis: Redis): Promise<string | undefined> {
  try {
    const [, policy] = (await redis.config('GET', 'maxmemory-policy')) as [string, string];
    return policy;
  } catch {
    // Managed Redis often forbids CONFIG; INFO still tells.
    const info = await redis.info('memory');
    return /maxmemory_policy:(\S+)/.exec(info)?.[1];
  }
}
