// `npm run bench`: runs every bench, one after the other, each in its own process so that none inherits another's
// pool threads or connections. Prints each bench's JSON line as it finishes; exits non-zero if one failed.
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const BENCHES = [
  'login-timing.ts',
  'read-path.ts',
  'birthday-scan.ts',
  'hash-pool.ts',
  'reset-flood.ts',
  'client-import.ts',
  'dispatch.ts',
  'dashboard.ts',
];

let failed = 0;
for (const file of BENCHES) {
  const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, file), ...process.argv.slice(2)], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (run.status !== 0) {
    failed += 1;
    process.stderr.write(`bench ${file} failed (exit ${run.status ?? run.signal})\n`);
  }
}
process.exit(failed ? 1 : 0);
