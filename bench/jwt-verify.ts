// Authenticated throughput: requests per second of GET /users/me on the real API (passport-jwt verifying HS256 with
// a KeyObject, then the user row and the denylist), against a ceiling: bare Express answering the same path with a
// fixed JSON body, on the same machine and measured by the same client. Also times jsonwebtoken's verify alone, with
// the KeyObject and with the secret as a string, to show why the key is a KeyObject. Prints one JSON object.
//
//   npx tsx bench/jwt-verify.ts [--seconds=5] [--connections=32]      (at most 30 s and 256 connections)
//
// The load comes from a worker thread with keep-alive connections to 127.0.0.1, so the servers keep the main thread.
import { Worker } from 'node:worker_threads';
import crypto from 'node:crypto';
import express from 'express';
import jwt from 'jsonwebtoken';
import { startApi, listen, postJson, intOption, BENCH_PASSWORD } from './support';

const seconds = intOption('seconds', 5, 30);
const connections = intOption('connections', 32, 256);
const WARMUP_SECONDS = 1;

interface LoadResult {
  requests: number;
  non2xx: number;
  errors: number;
  seconds: number;
}

// Plain JavaScript, run with eval so that the thread needs no TypeScript loader.
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, headers, seconds, connections } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
const target = new URL(url);
let requests = 0, non2xx = 0, errors = 0;
const started = performance.now();
const end = started + seconds * 1000;
function one() {
  return new Promise((resolve) => {
    const req = http.request({ host: target.hostname, port: target.port, path: target.pathname, agent, headers }, (res) => {
      res.resume();
      res.on('end', () => { requests++; if (res.statusCode < 200 || res.statusCode > 299) non2xx++; resolve(); });
    });
    req.on('error', () => { errors++; resolve(); });
    req.end();
  });
}
async function loop() { while (performance.now() < end) await one(); }
Promise.all(Array.from({ length: connections }, loop)).then(() => {
  agent.destroy();
  parentPort.postMessage({ requests, non2xx, errors, seconds: (performance.now() - started) / 1000 });
});
`;

function load(url: string, headers: Record<string, string>, duration: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(CLIENT, { eval: true, workerData: { url, headers, seconds: duration, connections } });
    w.once('message', (m: LoadResult) => resolve(m));
    w.once('error', reject);
  });
}

async function rps(
  url: string,
  headers: Record<string, string>,
): Promise<{ rps: number; requests: number; non2xx: number; errors: number }> {
  await load(url, headers, WARMUP_SECONDS);
  const r = await load(url, headers, seconds);
  if (r.non2xx || r.errors) throw new Error(`${url}: ${r.non2xx} non-2xx answers and ${r.errors} errors`);
  return { rps: Math.round(r.requests / r.seconds), requests: r.requests, non2xx: r.non2xx, errors: r.errors };
}

/** Verifications per second of one token, for up to 1 s or 20 000 verifies. */
function verifiesPerSecond(token: string, secret: string | crypto.KeyObject): number {
  const started = performance.now();
  let n = 0;
  while (n < 20_000 && performance.now() - started < 1000) {
    jwt.verify(token, secret, { algorithms: ['HS256'], audience: 'nudge:auth' });
    n += 1;
  }
  return Math.round(n / ((performance.now() - started) / 1000));
}

const api = await startApi();
try {
  const login = await postJson(`${api.url}/auth/jwt/login`, { username: api.user.email, password: BENCH_PASSWORD });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.json)}`);
  const token = (login.json as { access_token: string }).access_token;
  const auth = { authorization: `Bearer ${token}` };
  const me = await (await fetch(`${api.url}/users/me`, { headers: auth })).text();

  const nudge = await rps(`${api.url}/users/me`, auth);

  // The ceiling: Express with nothing but the route, answering the same body.
  const bare = express();
  bare.disable('x-powered-by');
  bare.get('/users/me', (_req, res) => {
    res.type('json').send(me);
  });
  const bareServer = await listen(bare);
  let ceiling: Awaited<ReturnType<typeof rps>>;
  try {
    ceiling = await rps(`${bareServer.url}/users/me`, auth);
  } finally {
    await bareServer.close();
  }

  const keyObject = crypto.createSecretKey(Buffer.from(api.config.jwtSecret, 'utf8'));
  const withKey = verifiesPerSecond(token, keyObject);
  const withString = verifiesPerSecond(token, api.config.jwtSecret);
  console.log(
    JSON.stringify({
      bench: 'jwt-verify',
      seconds,
      connections,
      users_me_rps: nudge.rps,
      bare_express_rps: ceiling.rps,
      ratio: Math.round((nudge.rps / ceiling.rps) * 1000) / 1000,
      verify_only: {
        key_object_per_s: withKey,
        string_secret_per_s: withString,
        speedup: Math.round((withKey / withString) * 10) / 10,
      },
    }),
  );
} finally {
  await api.shutdown();
}
process.exit(0);
