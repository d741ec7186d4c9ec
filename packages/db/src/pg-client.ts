// Knex's PostgreSQL client with one change: every query's error goes through translateDbError. Every repository
// write, raw query and transaction runs through _query, so none can forget the translation.
import { createRequire } from 'node:module';
import type { Knex } from 'knex';
import { translateDbError } from './db-errors';

type PgDialect = new (
  config: Knex.Config,
) => Knex.Client & { _query(connection: unknown, obj: unknown): Promise<unknown> };

// Knex ships its dialects as CommonJS without type declarations; a Client subclass is its documented extension point.
const require = createRequire(import.meta.url);
const KnexPgClient = require('knex/lib/dialects/postgres/index.js') as PgDialect;

export class TranslatingPgClient extends KnexPgClient {
  override async _query(connection: unknown, obj: unknown): Promise<unknown> {
    try {
      return await super._query(connection, obj);
    } catch (err) {
      throw translateDbError(err);
    }
  }
}
