// The web process: builds the app from real connections, listens on PORT, and shuts down in order on SIGTERM.
import http from 'node:http';
import { loadConfigOrExit } from '@nudge/config';
import { getLogger, setLogRole } from '@nudge/logger';
import { getDb, closeDb } from '@nudge/db';
import { Producers, createRedis } from '@nudge/queue';
import { closePasswordPool } from '@nudge/crypto';
import { Registry } from 'prom-client';
import { createApp } from './app';
import { enableProcessMetrics, watchStuckQueues } from './http/operations';

const config = loadConfigOrExit();
setLogRole('web');
const logger = getLogger();
for (const w of config.warnings) logger.warn(w);

const db = getDb();
const redis = createRedis('client');
const producers = new Producers();
const metricsRegistry = new Registry();
enableProcessMetrics(metricsRegistry);
const app = createApp({ config, logger, db, redis, producers, metricsRegistry });
const server = http.createServer(app);
// The API outlives a dead worker, so it is the one that notices (and logs) a stuck queue, scraped or not.
watchStuckQueues(metricsRegistry, Math.min(60, config.queueStuckSeconds) * 1000);

server.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EADDRINUSE') logger.error(`PORT ${config.port} is already in use`);
  else logger.error('HTTP server failed', { err });
  process.exit(1);
});

server.listen(config.port, () => {
  logger.info(`API listening on ${config.publicBaseUrl} (docs at /docs)`);
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info(`${signal} received, closing`);
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  server.closeIdleConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await Promise.allSettled([producers.close(), closeDb(), redis.quit(), closePasswordPool()]);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
