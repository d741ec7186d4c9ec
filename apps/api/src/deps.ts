// What the API needs from the outside world. createApp takes these and opens nothing itself.
import type { Config } from '@nudge/config';
import type { Logger } from '@nudge/logger';
import type { Db } from '@nudge/db';
import type { Producers, Redis } from '@nudge/queue';
import type { Registry } from 'prom-client';
import type { Passwords } from './auth/passwords';

export interface AppDeps {
  config: Config;
  logger: Logger;
  db: Db;
  /** A fail-fast client for the cache, rate limits and the token denylist. */
  redis: Redis;
  producers: Producers;
  /** Password hashing; defaults to the bcrypt pool at the configured cost. */
  passwords?: Passwords;
  /** Where /metrics reads from; main.ts adds the process's default metrics to it. */
  metricsRegistry?: Registry;
}
