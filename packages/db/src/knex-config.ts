// Knex's configuration, shared by every process and, through the root knexfile.ts, by the Knex CLI.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Knex } from 'knex';
import { getConfig } from '@nudge/config';
import { TranslatingPgClient } from './pg-client';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface KnexOptions {
  /** PostgreSQL's statement_timeout in ms; 0 or undefined for none (the CLI's migrations may run long). */
  statementTimeoutMs?: number;
  /** How long a query waits for a pooled connection, or for a new one to connect, before it fails. */
  acquireTimeoutMs?: number;
}

export function knexConfig(databaseUrl: string = getConfig().databaseUrl, options: KnexOptions = {}): Knex.Config {
  const { statementTimeoutMs, acquireTimeoutMs } = options;
  return {
    // 'pg', with constraint errors translated to the typed errors of db-errors.ts.
    client: TranslatingPgClient as unknown as typeof Knex.Client,
    // No statement may hang a request: a stuck query is cancelled by the server, and a database that does not
    // answer fails the query within the acquire timeout (the API answers 503) instead of Knex's default 60 s.
    connection: {
      connectionString: databaseUrl,
      ...(statementTimeoutMs ? { statement_timeout: statementTimeoutMs } : {}),
      ...(acquireTimeoutMs ? { connectionTimeoutMillis: acquireTimeoutMs } : {}),
    },
    ...(acquireTimeoutMs ? { acquireConnectionTimeout: acquireTimeoutMs } : {}),
    pool: { min: 0, max: 10 },
    // Knex would otherwise put the compiled SQL, bound values included, into every query error: a failed write
    // would carry password hashes, emails and token hashes into the logs. The SQL text with placeholders is enough.
    compileSqlOnError: false,
    migrations: {
      directory: path.join(here, 'migrations'),
      tableName: 'knex_migrations',
      loadExtensions: ['.ts', '.js'],
      extension: 'ts',
    },
  };
}

/** The configuration of a process's own pool: the configured statement and acquire timeouts apply. */
export function processKnexConfig(databaseUrl?: string): Knex.Config {
  const config = getConfig();
  return knexConfig(databaseUrl ?? config.databaseUrl, {
    statementTimeoutMs: config.dbStatementTimeoutMs,
    acquireTimeoutMs: config.dbAcquireTimeoutMs,
  });
}
