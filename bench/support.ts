// What the benches share: the real API on the configured database and Redis, listening on 127.0.0.1, with a bench
// user, a silent logger (log I/O is not what is measured) and its own rate-limit namespace with limits out of reach.
import fs from 'node:fs';
import http from 'node:http';
import crypto from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { RequestListener } from 'node:http';
import winston from 'winston';
import { getConfig, type Config } from '@nudge/config';
import { getDb, closeDb, insertUser, deleteUserById, type UserRow } from '@nudge/db';
import { Producers, createRedis } from '@nudge/queue';
import { closePasswordPool, hashPassword } from '@nudge/crypto';
import { createApp } from '../apps/api/src/index';

export const BENCH_PASSWORD = 'bench-password-1';

export interface Listening {
  url: string;
  close: () => Promise<void>;
}

export async function listen(handler: RequestListener): Promise<Listening> {
  const server = http.createServer(handler);
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface BenchApi extends Listening {
  config: Config;
  user: UserRow;
  /** Stops the server, deletes the bench user and closes every connection and the hashing pool. */
  shutdown: () => Promise<void>;
}

export async function startApi(): Promise<BenchApi> {
  const base = getConfig();
  const config: Config = {
    ...base,
    redisPrefix: `${base.redisPrefix}:bench${crypto.randomBytes(4).toString('hex')}`,
    // Every limit out of reach: a bench's load all comes from 127.0.0.1, and measures the work behind the limits.
    rateLimits: {
      ...base.rateLimits,
      loginFailures: 1e9,
      loginIpPerDay: 1e9,
      accountFailures: 1e9,
      resetPerHour: 1e9,
      forgotPerHour: 1e9,
      registerPerHour: 1e9,
    },
  };
  const db = getDb();
  const redis = createRedis('client');
  await redis.ping();
  const producers = new Producers();
  const logger = winston.createLogger({ silent: true });
  const app = createApp({ config, logger, db, redis, producers });
  const user = await insertUser(db, {
    email: `bench-${crypto.randomBytes(5).toString('hex')}@example.com`,
    password_hash: await hashPassword(BENCH_PASSWORD, config.bcryptCost),
    date_of_birth: '1990-01-01',
  });
  const server = await listen(app);
  return {
    ...server,
    config,
    user,
    shutdown: async () => {
      await server.close();
      await deleteUserById(db, user.id);
      const keys = await redis.keys(`${config.redisPrefix}:*`);
      if (keys.length) await redis.del(...keys);
      await Promise.allSettled([producers.close(), redis.quit(), closeDb(), closePasswordPool()]);
    },
  };
}

export async function postJson(url: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.status, json: await res.json() };
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] ?? NaN;
}

export function summary(samples: number[]): { median_ms: number; p95_ms: number; min_ms: number; max_ms: number } {
  const s = [...samples].sort((a, b) => a - b);
  const r = (n: number) => Math.round(n * 100) / 100;
  return {
    median_ms: r(percentile(s, 50)),
    p95_ms: r(percentile(s, 95)),
    min_ms: r(s[0] ?? NaN),
    max_ms: r(s[s.length - 1] ?? NaN),
  };
}

/** A positive integer option (`--name=N`), or the default; capped, so that a bench stays bounded. */
export function intOption(name: string, def: number, max: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const n = Number(arg?.slice(name.length + 3));
  return Number.isInteger(n) && n > 0 ? Math.min(n, max) : def;
}

/**
 * One row of `npm run bench`'s table: the figure a bench is about, the ceiling it is compared with (measured in the
 * same run, in the same unit), their ratio, and the target with whether this run met it (null: no target).
 */
export interface Headline {
  metric: string;
  value: number;
  unit: string;
  ceiling: number | null;
  ratio: number | null;
  target: string | null;
  meets_target: boolean | null;
}

/** This process's peak resident set so far, in MB (maxRSS is in kilobytes). */
export function peakRssMb(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

/** Another process's peak resident set so far (VmHWM), in MB; NaN when it is gone or /proc is not there. */
export function peakRssOfPid(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    return round(Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]) / 1024, 1);
  } catch {
    return NaN;
  }
}

/**
 * Prints a bench's one JSON line, with the rows it contributes to the table and its process's peak RSS. `bench/run.ts`
 * reads `headlines`, `peak_rss_mb` and, for a bench that runs other processes, `process_peak_rss_mb` ({name: MB}).
 */
export function printResult(result: { bench: string; headlines: Headline[] } & Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...result, peak_rss_mb: peakRssMb() })}\n`);
}

/** Rounds to `digits` decimals: what the JSON lines print. */
export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
