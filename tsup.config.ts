// `npm run build` bundles each process entry point into dist/ (or `--out-dir`), with the workspace packages inlined
// and the third-party dependencies left to node_modules. `node dist/<name>.js` needs no TypeScript loader.
import { readdirSync } from 'node:fs';
import { copyFile, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { defineConfig } from 'tsup';

const MIGRATIONS = 'packages/db/src/migrations';

// Each migration compiles to dist/migrations/<stem>.js, the directory the bundled knex configuration points at
// (next to the chunk that holds it); `migrate` runs them under their .ts names (packages/db/src/migration-source.ts).
const migrations = Object.fromEntries(
  readdirSync(MIGRATIONS)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => [`migrations/${f.slice(0, -'.ts'.length)}`, path.join(MIGRATIONS, f)]),
);

export default defineConfig((options) => {
  const outDir = options.outDir ?? 'dist';
  const startedAt = new Date();
  return {
    entry: {
      web: 'apps/api/src/main.ts',
      birthdays: 'apps/worker/src/processes/birthdays.ts',
      reminders: 'apps/worker/src/processes/reminders.ts',
      billing: 'apps/worker/src/processes/billing.ts',
      migrate: 'packages/db/src/cli/migrate.ts',
      'seed-admin': 'packages/db/src/cli/seed-admin.ts',
      'rotate-keys': 'packages/db/src/cli/rotate-keys.ts',
      ...migrations,
    },
    outDir,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    clean: true,
    noExternal: [/^@nudge\//],
    // Third-party packages stay in node_modules, whichever workspace package declares them.
    skipNodeModulesBundle: true,
    // The bcrypt pool's worker thread is plain JavaScript, resolved next to the chunk that starts the pool (always
    // at the top of outDir: esbuild writes shared chunks there).
    onSuccess: async () => {
      await copyFile('packages/crypto/src/hash.worker.mjs', path.join(outDir, 'hash.worker.mjs'));
      // npm start rebuilds when a source is newer than this (scripts/common.mjs buildPlan): the time the build
      // started, so a file saved while it ran counts as newer.
      const stamp = path.join(outDir, '.build-stamp');
      await writeFile(stamp, `${startedAt.toISOString()}\n`);
      await utimes(stamp, startedAt, startedAt);
    },
  };
});
