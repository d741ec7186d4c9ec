// The web process: builds the app from real connections, listens on PORT, and shuts down in order on SIGTERM.
import http from 'node:http';
import net from 'node:net';
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

/** How long keep-alive connections get, after the signal, to send a last request before idle ones are closed. */
const IDLE_GRACE_MS = 2000;
let stopping = false;
// Answers still to be written when the signal comes, so that they can close their connection too.
const unanswered = new Set<http.ServerResponse>();
server.prependListener('request', (_req: http.IncomingMessage, res: http.ServerResponse) => {
  if (stopping) res.setHeader('Connection', 'close');
  unanswered.add(res);
  res.on('close', () => unanswered.delete(res));
});

/**
 * Stops without cutting a request: no new connection is accepted; every answer from now on closes its connection
 * (a keep-alive client then opens a new one elsewhere); a connection idle after the grace is closed. Closing idle
 * keep-alive connections at once (as http.Server.close does) would reset a request a client is sending on one at
 * that very moment, and waiting for them without Connection: close would never end under load.
 */
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info(`${signal} received, closing`);
  const force = setTimeout(() => process.exit(1), 10_000);
  force.unref();
  for (const res of unanswered) if (!res.headersSent) res.setHeader('Connection', 'close');
  const closed = new Promise<void>((resolve) => net.Server.prototype.close.call(server, () => resolve()));
  const grace = new Promise<void>((resolve) => setTimeout(resolve, IDLE_GRACE_MS).unref());
  await Promise.race([closed, grace]);
  server.closeIdleConnections();
  await closed;
  await Promise.allSettled([producers.close(), closeDb(), redis.quit(), closePasswordPool()]);
  process.exit(0);
}
process.on('SIGTERM', () => void shutdown('SIGTERM'));
process.on('SIGINT', () => void shutdown('SIGINT'));
