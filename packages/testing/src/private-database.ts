// A throwaway database for suites that must see every row of a table (key rotation walks whole tables, and the test
// database is shared by other suites).
import { randomBytes } from 'node:crypto';
import { getConfig } from '@nudge/config';
import { createDb, getDb, type Db } from '@nudge/db';

export interface PrivateDatabase {
  db: Db;
  url: string;
  drop: () => Promise<void>;
}

/** A new database, migrated unless `migrate` is false (for a test of the migrations themselves). */
export async function createPrivateDatabase(prefix: string, { migrate = true } = {}): Promise<PrivateDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  await getDb().raw('CREATE DATABASE ??', [name]);
  const u = new URL(getConfig().databaseUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const db = createDb(url);
  if (migrate) await db.migrate.latest();
  return {
    db,
    url,
    drop: async () => {
      await db.destroy();
      await getDb().raw('DROP DATABASE IF EXISTS ?? WITH (FORCE)', [name]);
    },
  };
}
