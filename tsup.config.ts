// `npm run build` bundles each process entry point into dist/, with the workspace packages inlined and the
// third-party dependencies left to node_modules.
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {
    web: 'apps/api/src/main.ts',
    birthdays: 'apps/worker/src/processes/birthdays.ts',
    reminders: 'apps/worker/src/processes/reminders.ts',
    billing: 'apps/worker/src/processes/billing.ts',
    'seed-admin': 'packages/db/src/cli/seed-admin.ts',
  },
  outDir: 'dist',
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  clean: true,
  noExternal: [/^@nudge\//],
  // Third-party packages stay in node_modules, whichever workspace package declares them.
  skipNodeModulesBundle: true,
  // The bcrypt pool's worker is plain JavaScript resolved next to the bundle at run time.
  onSuccess: 'cp packages/crypto/src/hash.worker.mjs dist/',
});
