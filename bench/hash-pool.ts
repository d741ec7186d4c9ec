// What the bcrypt pool buys the event loop: 20 concurrent hashes at a real cost, inline (bcryptjs on the main
// thread, the ceiling of harm) and through the pool, while a setImmediate loop measures how long the event loop
// stalls. Prints one JSON line with the longest and p99 gaps of each, and their ratio.
// Usage: npx tsx bench/hash-pool.ts [--cost 10] [--hashes 20]
import bcrypt from 'bcryptjs';
import { closePasswordPool, hashPassword } from '@nudge/crypto';
import { printResult } from './support';

const arg = (name: string, def: number, max: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return Math.min(max, i >= 0 ? Number(process.argv[i + 1]) : def);
};
const COST = arg('cost', 10, 12);
const HASHES = arg('hashes', 20, 200);

async function gapsWhile(
  work: () => Promise<unknown>,
): Promise<{ max_ms: number; p99_ms: number; ticks: number; total_ms: number }> {
  const gaps: number[] = [];
  let running = true;
  let last = performance.now();
  const loop = (): void => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
    if (running) setImmediate(loop);
  };
  const started = performance.now();
  setImmediate(loop);
  await work();
  running = false;
  const sorted = [...gaps].sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 10) / 10;
  return {
    max_ms: round(sorted.at(-1) ?? 0),
    p99_ms: round(sorted[Math.floor(sorted.length * 0.99)] ?? 0),
    ticks: gaps.length,
    total_ms: round(performance.now() - started),
  };
}

await hashPassword('warm up the pool', 4);
const inline = await gapsWhile(() =>
  Promise.all(Array.from({ length: HASHES }, (_, i) => bcrypt.hash(`inline ${i}`, COST))),
);
const pooled = await gapsWhile(() =>
  Promise.all(Array.from({ length: HASHES }, (_, i) => hashPassword(`pooled ${i}`, COST))),
);
await closePasswordPool();
const ratio = Math.round((pooled.max_ms / inline.max_ms) * 1000) / 1000;
printResult({
  bench: 'hash-pool',
  cost: COST,
  hashes: HASHES,
  inline,
  pooled,
  max_stall_pooled_over_inline: ratio,
  headlines: [
    {
      metric: `longest event-loop stall, ${HASHES} hashes at cost ${COST}: pooled vs inline`,
      value: pooled.max_ms,
      unit: 'ms',
      ceiling: inline.max_ms,
      ratio,
      target: null,
      meets_target: null,
    },
  ],
});
