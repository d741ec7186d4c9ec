// Knex's configuration, shared by every process and, through the root knexfile.ts, by the Knex CLI.
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

