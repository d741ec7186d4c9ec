// The migrations as the compiled bundle runs them: dist/migrations holds `<stem>.js`, but every database records
// each migration under its TypeScript file's name (`<stem>.ts`, what the Knex CLI writes in development). Naming
// both the same makes a database migrated by either one up to date for the other.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Knex } from 'knex';

const MIGRATION_FILE = /^(?<stem>.+)\.(?:ts|js)$/;

export function migrationSource(directory: string): Knex.MigrationSource<string> {
  const stemOf = (file: string) => MIGRATION_FILE.exec(file)?.groups?.stem ?? file;
  return {
    async getMigrations() {
      const files = (await readdir(directory)).filter((f) => MIGRATION_FILE.test(f) && !f.endsWith('.d.ts'));
      const stems = new Set(files.map(stemOf));
      if (stems.size !== files.length) throw new Error(`${directory} has a migration both as .ts and as .js`);
      return files.sort();
    },
    getMigrationName: (file) => `${stemOf(file)}.ts`,
    getMigration: (file) => import(pathToFileURL(path.join(directory, file)).href) as Promise<Knex.Migration>,
  };
}
