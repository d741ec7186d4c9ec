// `node dist/migrate.js [latest|rollback]`: the Procfile's `release` step, compiled. Runs the compiled migrations
// next to this bundle (dist/migrations) with no TypeScript loader; `npm run db:migrate` is its development twin.
import { loadConfigOrExit } from '@nudge/config';
import knexFactory from 'knex';
import { knexConfig } from '../knex-config';
import { migrationSource } from '../migration-source';

const command = process.argv[2] ?? 'latest';
if (command !== 'latest' && command !== 'rollback') {
  process.stderr.write(`usage: migrate.js [latest|rollback] (got ${command})\n`);
  process.exit(64);
}

const config = loadConfigOrExit();
// No statement timeout: a migration may rewrite a large table.
const settings = knexConfig(config.databaseUrl);
const db = knexFactory(settings);
const source = { migrationSource: migrationSource(settings.migrations?.directory as string) };
try {
  const [batch, names] = (
    command === 'latest' ? await db.migrate.latest(source) : await db.migrate.rollback(source)
  ) as [number, string[]];
  const verb = command === 'latest' ? 'ran' : 'rolled back';
  console.log(names.length ? `Batch ${batch} ${verb} ${names.length} migrations` : 'Already up to date');
  for (const name of names) console.log(`  ${name}`);
} catch (err) {
  process.exitCode = 1;
  console.error(`Migration failed: ${err instanceof Error ? err.message : String(err)}`);
} finally {
  await db.destroy();
}
