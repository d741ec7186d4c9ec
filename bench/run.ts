// `npm run bench`: runs every bench, one after the other, each in its own process so that none inherits another's
// pool threads or connections. Prints each bench's JSON line as it finishes, writes it to bench/results/<name>.json,
// and ends with one table of every bench's headline rows (bench/support.ts `Headline`) and peak RSS. Exits non-zero
// if a bench failed.
//
//   npm run bench [-- --quick] [-- --only=login-timing,dispatch]
//
// --quick gives every bench small sizes (QUICK below): a smoke run of the whole suite, not figures to quote.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Headline } from './support';

const here = path.dirname(fileURLToPath(import.meta.url));
const resultsDir = path.join(here, 'results');

/** Each bench with the arguments of a quick run. */
const BENCHES: readonly (readonly [file: string, quick: readonly string[]])[] = [
  ['login-timing.ts', ['--samples=5', '--seconds=3']],
  ['read-path.ts', ['--seconds=2', '--runs=1']],
  ['birthday-scan.ts', ['--small', '2000', '--large', '20000', '--workspaces', '500', '--due', '20', '--runs', '5']],
  ['hash-pool.ts', ['--hashes', '4']],
  ['reset-flood.ts', ['--samples=5', '--connections=8', '--seconds=10']],
  ['client-import.ts', ['--rows=2000']],
  ['dispatch.ts', ['--count=500']],
  ['dashboard.ts', ['--notifications=5000', '--calls=20']],
];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const only = args
  .find((a) => a.startsWith('--only='))
  ?.slice('--only='.length)
  .split(',')
  .map((n) => n.replace(/\.ts$/, ''));
const passOn = args.filter((a) => a !== '--quick' && !a.startsWith('--only='));

interface BenchOutput {
  bench: string;
  headlines?: Headline[];
  peak_rss_mb?: number;
  process_peak_rss_mb?: Record<string, number>;
}

const outputs: { name: string; out?: BenchOutput; error?: string }[] = [];
const load = [os.loadavg()[0] ?? 0];
for (const [file, quickArgs] of BENCHES) {
  const name = file.replace(/\.ts$/, '');
  if (only && !only.includes(name)) continue;
  if (!fs.existsSync(path.join(here, file))) {
    process.stderr.write(`bench ${file}: not found, skipped\n`);
    outputs.push({ name, error: 'not found' });
    continue;
  }
  const run = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.join(here, file), ...(quick ? quickArgs : []), ...passOn],
    { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  process.stdout.write(run.stdout);
  load.push(os.loadavg()[0] ?? 0);
  // The bench's one JSON object is its last line that parses as one.
  const line = run.stdout
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  let out: BenchOutput | undefined;
  try {
    out = line ? (JSON.parse(line) as BenchOutput) : undefined;
  } catch {
    out = undefined;
  }
  if (run.status !== 0 || !out) {
    const error = `exit ${run.status ?? run.signal}${out ? '' : ', no JSON line'}`;
    process.stderr.write(`bench ${file} failed (${error})\n`);
    outputs.push({ name, out, error });
    continue;
  }
  // A quick run's figures are not the latest figures: they go beside them, not over them.
  fs.mkdirSync(resultsDir, { recursive: true });
  const recorded = { ...out, recorded_at: new Date().toISOString(), quick, load_average_1m: load.at(-1) };
  fs.writeFileSync(
    path.join(resultsDir, quick ? `${name}.quick.json` : `${name}.json`),
    `${JSON.stringify(recorded, null, 2)}\n`,
  );
  outputs.push({ name, out });
}

const fmt = (n: number | null | undefined): string =>
  n === null || n === undefined || Number.isNaN(n) ? '' : n.toLocaleString('en-US', { maximumFractionDigits: 2 });
const rows: string[][] = [['bench', 'headline', 'value', 'ceiling', 'ratio', 'target', 'met?', 'peak RSS MB']];
const API_RSS_TARGET_MB = 200;
for (const { name, out, error } of outputs) {
  if (error === 'not found') {
    rows.push([name, 'skipped: no such bench here', '', '', '', '', '', '']);
    continue;
  }
  if (error && !out?.headlines?.length) {
    rows.push([name, `FAILED: ${error}`, '', '', '', '', 'NO', '']);
    continue;
  }
  const lines = out?.headlines ?? [];
  lines.forEach((h, i) => {
    rows.push([
      i === 0 ? name : '',
      h.metric,
      `${fmt(h.value)} ${h.unit}`,
      fmt(h.ceiling),
      fmt(h.ratio),
      h.target ?? '',
      h.meets_target === null ? '' : h.meets_target ? 'yes' : 'NO',
      i === 0 ? fmt(out?.peak_rss_mb) : '',
    ]);
  });
  // Processes a bench ran besides its own (the API and workers of an `npm start` stack): the API has a target.
  for (const [proc, mb] of Object.entries(out?.process_peak_rss_mb ?? {})) {
    const isApi = proc === 'api' || proc === 'web';
    rows.push([
      '',
      `peak RSS of the ${proc} process`,
      `${fmt(mb)} MB`,
      '',
      '',
      isApi ? `< ${API_RSS_TARGET_MB} MB` : '',
      isApi ? (mb < API_RSS_TARGET_MB ? 'yes' : 'NO') : '',
      fmt(mb),
    ]);
  }
}
const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
const line = (r: string[]) => `| ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join(' | ')} |`;
const table = [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)];
process.stdout.write(
  `\n${table.join('\n')}\n\n${quick ? 'quick run (small sizes): ' : ''}${os.availableParallelism()} cores, ` +
    `${Math.round(os.totalmem() / 2 ** 30)} GB RAM, load average (1 min) ${Math.min(...load).toFixed(1)}–` +
    `${Math.max(...load).toFixed(1)} during the run\n`,
);
process.exit(outputs.some((o) => o.error && o.error !== 'not found') ? 1 : 0);
