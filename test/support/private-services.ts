// A PostgreSQL and a redis-server of a suite's own (scripts/services.mjs: private folders, free ports, Redis with its
// append-only file on), which the fault suite stops, crashes, empties and starts again. Never the machine's.
import { createDb, type Db } from '@nudge/db';
import {
  createDatabase,
  redisConnect,
  resumePostgres,
  resumeRedis,
  startPostgres,
  startRedis,
  stopPostgres,
  stopRedis,
  withDatabase,
} from '../../scripts/services.mjs';

export interface PrivateServices {
  /** `postgres://…/postgres` of the private server: pick a database with `database()`. */
  postgresUrl: string;
  redisUrl: string;
  /** A new migrated database on the private PostgreSQL: its URL and a connection to it. */
  database: (name: string) => Promise<{ url: string; db: Db }>;
  /** Stops PostgreSQL, `immediate` as a crash would (the default), keeping its data. */
  stopPostgres: (mode?: 'fast' | 'immediate') => Promise<void>;
  /** Starts PostgreSQL again on its port. */
  startPostgres: () => Promise<void>;
  /** SHUTDOWN (the append-only file is flushed), keeping its folder. */
  stopRedis: () => Promise<void>;
  /** Starts Redis again on its port, from its append-only file. */
  startRedis: () => Promise<void>;
  /** One command to the private Redis (FLUSHALL, DBSIZE...). */
  redis: (...args: (string | number)[]) => Promise<unknown>;
  /** Stops both and removes their folders. */
  close: () => Promise<void>;
}

const quiet = () => undefined;

export async function startPrivateServices({
  log = quiet,
}: { log?: (msg: string) => void } = {}): Promise<PrivateServices> {
  const pg = await startPostgres({ production: false, log });
  const redis = await startRedis({ production: false, log }).catch(async (err: unknown) => {
    await stopPostgres(pg, log);
    throw err;
  });
  const dbs: Db[] = [];
  return {
    postgresUrl: pg.url,
    redisUrl: redis.url,
    database: async (name) => {
      await createDatabase(pg.url, name);
      const url = withDatabase(pg.url, name);
      const db = createDb(url);
      dbs.push(db);
      await db.migrate.latest();
      return { url, db };
    },
    stopPostgres: (mode = 'immediate') => stopPostgres(pg, log, { mode, keep: true }),
    startPostgres: () => resumePostgres(pg, log),
    stopRedis: () => stopRedis(redis, log, { keep: true }),
    startRedis: () => resumeRedis(redis, log),
    redis: async (...args) => {
      const conn = await redisConnect(redis.url);
      try {
        return await conn.command(...args);
      } finally {
        conn.close();
      }
    },
    close: async () => {
      await Promise.allSettled(dbs.map((db) => db.destroy()));
      await Promise.allSettled([stopPostgres(pg, log), stopRedis(redis, log)]);
    },
  };
}
