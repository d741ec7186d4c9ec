// Knex's configuration, shared by the CLI (through the root knexfile.ts) and by every process.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { getConfig } from '@nudge/config';

const here = path.dirname(fileURLToPath(import.meta.url));

export function knexConfig(databaseUrl: string = getConfig().databaseUrl): Knex.Config {
  return {
    client: 'pg',
    connection: databaseUrl,
    pool: { min: 0, max: 10 },
    migrations: {
      directory: path.join(here, 'migrations'),
      tableName: 'knex_migrations',
      loadExtensions: ['.ts', '.js'],
      extension: 'ts',
    },
  };
}

export default knexConfig();
