// Knex's configuration, shared by every process and, through knexfile.ts, by the Knex CLI.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { getConfig } from '@nudge/config';
import { TranslatingPgClient } from './pg-client';

const here = path.dirname(fileURLToPath(import.meta.url));

export function knexConfig(databaseUrl: string = getConfig().databaseUrl): Knex.Config {
  return {
    // 'pg', with constraint errors translated to the typed errors of db-errors.ts.
    client: TranslatingPgClient as unknown as typeof Knex.Client,
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

