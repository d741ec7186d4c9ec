// One Knex pool per process. Everything that talks to PostgreSQL goes through this package.
import knexFactory, { type Knex } from 'knex';
import pg from 'pg';
import { processKnexConfig } from './knex-config';

// DATE columns are calendar dates, not instants: keep them as 'YYYY-MM-DD' strings instead of local-midnight Dates.
pg.types.setTypeParser(pg.types.builtins.DATE, (v: string) => v);
// COUNT(*) and BIGINT come back as strings by default.
pg.types.setTypeParser(pg.types.builtins.INT8, (v: string) => Number(v));

export type Db = Knex;
export type Trx = Knex.Transaction;
/** What a repository function runs on: the pool, or a transaction the caller opened. */
export type Conn = Knex | Knex.Transaction;

let shared: Knex | undefined;

export function createDb(databaseUrl?: string): Knex {
  return knexFactory(processKnexConfig(databaseUrl));
}

export function getDb(): Knex {
  shared ??= createDb();
  return shared;
}

export async function closeDb(): Promise<void> {
  if (shared) {
    const db = shared;
    shared = undefined;
    await db.destroy();
  }
}

/** Answers whether PostgreSQL replies within the timeout; used by /ready. */
export async function pingDb(db: Knex = getDb(), timeoutMs = 1000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      db.raw('SELECT 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

export async function migrateLatest(db: Knex = getDb()): Promise<void> {
  await db.migrate.latest();
}
