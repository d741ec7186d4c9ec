// Login latency during a flood of bogus password resets, next to a quiet baseline. A reset with an unknown token is
// refused after one indexed read and before any bcrypt work, and the hashing pool keeps a lane for logins, so a flood
// of resets (from as many addresses as an attacker likes: the bench puts the per-address limit out of reach) must not
// make logins wait for bcrypt, nor answer 503. Prints one JSON object.
//
//   npx tsx bench/reset-flood.ts [--samples=40] [--connections=64]      (at most 500 samples and 256 connections)
//
// The flood comes from a worker thread with keep-alive connections, each sending bogus resets back to back; the main
// thread logs in with the right password one request at a time, first with no flood, then during it.
import { Worker } from 'node:worker_threads';
import { startApi, postJson, summary, intOption, printResult, BENCH_PASSWORD } from './support';

const samples = intOption('samples', 40, 500);
const connections = intOption('connections', 64, 256);
const WARMUP = 5;

interface FloodResult {
  requests: number;
  statuses: Record<string, number>;
  errors: number;
  seconds: number;
}

// Plain JavaScript, run with eval so that the thread needs no TypeScript loader.
const FLOOD = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const crypto = require('node:crypto');
const { url, connections } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const target = new URL(url);
let stop = false, requests = 0, errors = 0;
const statuses = {};
parentPort.on('message', () => { stop = true; });
const started = performance.now();
function one() {
  const body = JSON.stringify({ token: crypto.randomBytes(32).toString('base64url'), password: 'flood-password-1' });
  return new Promise((resolve) => {
    const req = http.request({ host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      res.resume();
      res.on('end', () => { requests++; statuses[res.statusCode] = (statuses[res.statusCode] || 0) + 1; resolve(); });
    });
    req.on('error', () => { errors++; resolve(); });
    req.end(body);
  });
}
async function loop() { while (!stop) await one(); }
parentPort.postMessage('started');
Promise.all(Array.from({ length: connections }, loop)).then(() => {
  agent.destroy();
  parentPort.postMessage({ requests, statuses, errors, seconds: (performance.now() - started) / 1000 });
});
`;

const api = await startApi();
try {
  const statuses: Record<string, number> = {};
  /** `n` logins with the right password, one at a time; the time of each in ms. */
  const logins = async (n: number): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < WARMUP + n; i += 1) {
      const started = performance.now();
      const res = await postJson(`${api.url}/auth/jwt/login`, { username: api.user.email, password: BENCH_PASSWORD });
      const ms = performance.now() - started;
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (i >= WARMUP) times.push(ms);
    }
    return times;
  };

  const quiet = await logins(samples);

  const worker = new Worker(FLOOD, { eval: true, workerData: { url: `${api.url}/auth/reset-password`, connections } });
  const done = new Promise<FloodResult>((resolve, reject) => {
    worker.on('message', (m: FloodResult | 'started') => m !== 'started' && resolve(m));
    worker.once('error', reject);
  });
  await new Promise((resolve) => worker.once('message', resolve));
  const during = await logins(samples);
  worker.postMessage('stop');
  const flood = await done;
  await worker.terminate();

  const q = summary(quiet);
  const f = summary(during);
  const medianRatio = Math.round((f.median_ms / q.median_ms) * 100) / 100;
  printResult({
    bench: 'reset-flood',
    bcrypt_cost: api.config.bcryptCost,
    samples,
    connections,
    login_quiet: q,
    login_during_flood: f,
    median_ratio: medianRatio,
    p95_ratio: Math.round((f.p95_ms / q.p95_ms) * 100) / 100,
    login_statuses: statuses,
    flood: {
      resets: flood.requests,
      resets_per_second: Math.round(flood.requests / flood.seconds),
      statuses: flood.statuses,
      errors: flood.errors,
    },
    headlines: [
      {
        metric: `login median during a reset flood (${connections} connections) vs quiet`,
        value: f.median_ms,
        unit: 'ms',
        ceiling: q.median_ms,
        ratio: medianRatio,
        // A flood of bogus tokens must not make a login fail or answer 503.
        target: 'every login 200',
        meets_target: Object.keys(statuses).every((s) => s === '200'),
      },
    ],
  });
} finally {
  await api.shutdown();
}
process.exit(0);
