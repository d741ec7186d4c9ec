// A worker process's own /metrics and /health, on METRICS_PORT_<PROCESS> when it is set: the process's default
// metrics and its queues' series (shared with the API's /metrics through Redis, see @nudge/queue). A port already
// taken is logged and the process goes on without it: metrics must never stop the work.
import http from 'node:http';
import { Registry, collectDefaultMetrics } from 'prom-client';
import type { Config } from '@nudge/config';
import type { Logger } from '@nudge/logger';
import { QueueMonitor, metricsAccessAllowed, registerQueueMetrics, type QueueName, type Redis } from '@nudge/queue';

export interface MetricsServerOptions {
  port: number;
  /** The variable that set the port, for the log. */
  variable: string;
  queues: readonly QueueName[];
  redis: Redis;
  config: Config;
  logger: Logger;
}

export function metricsRegistryFor(opts: Omit<MetricsServerOptions, 'port' | 'variable'>): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const monitor = new QueueMonitor({
    redis: opts.redis,
    queues: opts.queues,
    stuckSeconds: opts.config.queueStuckSeconds,
    logger: opts.logger,
  });
  registerQueueMetrics(registry, monitor, opts.logger);
  return registry;
}

function answer(res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers }).end(JSON.stringify(body));
}

/** Serves the metrics; resolves to the listening server, or to undefined when the port could not be had. */
export function startMetricsServer(opts: MetricsServerOptions): Promise<http.Server | undefined> {
  const { config, logger } = opts;
  const registry = metricsRegistryFor(opts);
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD')
      return answer(res, 405, { detail: 'Method Not Allowed', code: 'METHOD_NOT_ALLOWED' }, { Allow: 'GET, HEAD' });
    if (path === '/health') return answer(res, 200, { status: 'ok' });
    if (path !== '/metrics') return answer(res, 404, { detail: 'Not Found', code: 'NOT_FOUND' });
    if (!metricsAccessAllowed(config, req.headers.authorization))
      return answer(res, 401, { detail: 'Unauthorized', code: 'UNAUTHORIZED' }, { 'WWW-Authenticate': 'Bearer' });
    registry.metrics().then(
      (text) => res.writeHead(200, { 'Content-Type': registry.contentType }).end(text),
      (err: unknown) => {
        logger.error('metrics failed', { err });
        answer(res, 500, { detail: 'Internal Server Error', code: 'INTERNAL_ERROR' });
      },
    );
  });
  return new Promise((resolve) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      logger.error(
        `${opts.variable} ${opts.port} ${err.code === 'EADDRINUSE' ? 'is already in use' : `failed: ${err.message}`}: this process serves no metrics`,
      );
      resolve(undefined);
    });
    server.listen(opts.port, () => {
      logger.info(`metrics and health on port ${opts.port} (${opts.variable})`);
      resolve(server);
    });
  });
}
