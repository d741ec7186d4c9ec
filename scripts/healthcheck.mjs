#!/usr/bin/env node
// The Docker image's HEALTHCHECK (node:*-slim has no curl): exits 0 when the URL answers 200 within 3 s, else 1.
// The API's /health by default; a worker passes the /health of its metrics port (METRICS_PORT_<NAME>).
// Usage: node scripts/healthcheck.mjs [url]
const url = process.argv[2] || `http://127.0.0.1:${process.env.PORT || 8000}/health`;
try {
  const res = await fetch(url, { signal: AbortSignal.timeout(3000) });
  process.exit(res.status === 200 ? 0 : 1);
} catch {
  process.exit(1);
}
