// Operations endpoints served at the root only: Prometheus metrics (public outside production, METRICS_TOKEN in
// it) and the queue dashboard (platform admins).
import type { Express, RequestHandler } from 'express';
import { Counter, Gauge, Registry, Histogram, collectDefaultMetrics } from 'prom-client';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import {
  QUEUES,
  QueueMonitor,
  metricsAccessAllowed,
  registerQueueMetrics,
  type Producers,
  type Redis,
  type RedisCircuit,
  type RedisCircuitState,
} from '@nudge/queue';
import { countNotificationsByStatusAndChannel, type Db, type StatusChannelCount } from '@nudge/db';
import type { Config } from '@nudge/config';
import type { Logger } from '@nudge/logger';
import { Forbidden, Unauthorized } from '../errors/domain-errors';

/** How long the notification counts are reused: a scrape every few seconds costs one GROUP BY, not one each. */
export const NOTIFICATION_COUNTS_TTL_MS = 5000;

export const QUEUE_DASHBOARD_PATH = '/admin/queues';

/** A registry per app, so tests can build many apps; the process's own metrics are added by main.ts. */
export function createMetrics(registry = new Registry()): { registry: Registry; middleware: RequestHandler } {
  const duration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration by method, route and status',
    labelNames: ['method', 'route', 'status'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const middleware: RequestHandler = (req, res, next) => {
    const end = duration.startTimer();
    res.on('finish', () => {
      // The route pattern, never the raw path: ids in labels would explode the series count.
      const route = (req.route as { path?: string } | undefined)?.path ?? 'unmatched';
      end({ method: req.method, route: `${req.baseUrl}${route}`, status: String(res.statusCode) });
    });
    next();
  };
  return { registry, middleware };
}

const CIRCUIT_STATES: Record<RedisCircuitState, number> = { closed: 0, open: 1, recovering: 2 };

/**
 * The Redis circuit on /metrics and in the log: its state as a gauge, each operation a fallback served as a counter
 * by component (cache, rate_limits, denylist), and one log line per transition, never one per request.
 */
export function instrumentRedisCircuit(registry: Registry, circuit: RedisCircuit, logger: Logger): void {
  new Gauge({
    name: 'redis_circuit_state',
    help: "The API's Redis circuit: 0 closed (Redis in use), 1 open (fallbacks in use), 2 recovering (reloading)",
    registers: [registry],
    collect() {
      this.set(CIRCUIT_STATES[circuit.state]);
    },
  });
  const fallbacks = new Counter({
    name: 'redis_fallback_total',
    help: 'Operations served without Redis while its circuit was not closed, or after a Redis failure, by component',
    labelNames: ['component'],
    registers: [registry],
  });
  circuit.on('fallback', (component) => fallbacks.inc({ component }));
  circuit.on('transition', (state, reason) => {
    if (state === 'open')
      logger.error(
        `Redis circuit open (${reason}): listings from PostgreSQL, rate limits in memory, denylist from PostgreSQL`,
      );
    else if (state === 'recovering') logger.warn('Redis answers again: reloading the denylist and flushing the cache');
    else logger.info('Redis circuit closed: Redis in use again');
  });
  circuit.on('recoveryFailed', (err) => logger.error('Redis circuit recovery failed; stays open', { err }));
}

export function enableProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
}

/**
 * Every queue's series (queue_jobs_total, queue_waiting_jobs, queue_oldest_waiting_seconds, queue_stuck: see
 * @nudge/queue's metrics) and notifications_by_status{status,channel} from PostgreSQL, every pair present.
 */
export function instrumentQueues(
  registry: Registry,
  deps: { db: Db; redis: Redis; config: Config; logger: Logger },
): void {
  const monitor = new QueueMonitor({
    redis: deps.redis,
    queues: Object.values(QUEUES),
    stuckSeconds: deps.config.queueStuckSeconds,
    logger: deps.logger,
  });
  registerQueueMetrics(registry, monitor, deps.logger);
  let counts: { at: number; rows: Promise<StatusChannelCount[]> } | undefined;
  new Gauge({
    name: 'notifications_by_status',
    help: `Notifications by status and channel, all workspaces (read at most every ${NOTIFICATION_COUNTS_TTL_MS / 1000} s)`,
    labelNames: ['status', 'channel'],
    registers: [registry],
    async collect() {
      const now = Date.now();
      if (!counts || now - counts.at > NOTIFICATION_COUNTS_TTL_MS) {
        const rows = countNotificationsByStatusAndChannel(deps.db);
        rows.catch(() => (counts = undefined));
        counts = { at: now, rows };
      }
      this.reset();
      try {
        for (const r of await counts.rows) this.set({ status: r.status, channel: r.channel }, r.count);
      } catch (err) {
        deps.logger.warn('notification metrics unavailable: PostgreSQL did not answer', {
          err: (err as Error).message,
        });
      }
    },
  });
}

/**
 * Looks at the queues every so often even when nothing scrapes /metrics, so that a stuck queue is logged all the
 * same (the warning is written when queue_stuck is computed).
 */
export function watchStuckQueues(registry: Registry, everyMs: number): NodeJS.Timeout {
  const timer = setInterval(() => {
    void registry
      .getSingleMetric('queue_stuck')
      ?.get()
      .catch(() => undefined);
  }, everyMs);
  timer.unref();
  return timer;
}

/** Outside production anyone may read /metrics; in production only the bearer of METRICS_TOKEN. */
export function metricsGuard(config: Config): RequestHandler {
  return (req, _res, next) => {
    next(metricsAccessAllowed(config, req.headers.authorization) ? undefined : new Unauthorized());
  };
}

/** Methods that only read: every other request under the dashboard changes a queue (retry, clean, promote...). */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The dashboard is opened with a cookie, which a browser attaches to any request to this origin; SameSite=Strict
 * already keeps it off cross-site requests, and a changing request must also name this very origin, so a page on a
 * sibling subdomain (same site, other origin) cannot retry or clean queues either.
 */
export function sameOriginForChanges(publicBaseUrl: string): RequestHandler {
  const origin = new URL(publicBaseUrl).origin;
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method) || req.headers.origin === origin) return next();
    next(new Forbidden(`A change needs Origin ${origin}`, 'ORIGIN_MISMATCH'));
  };
}

const THIRD_PARTY_STYLESHEET = /<link\b[^>]*href="https?:\/\/[^"]*"[^>]*rel="stylesheet"[^>]*>/gi;

/**
 * Bull-board's page links Google Fonts. The production CSP allows no third-party origin (and the dashboard should not
 * tell Google who opens it), so the link is dropped from the page: the UI falls back to the system fonts.
 */
function withoutThirdPartyFonts(): RequestHandler {
  return (req, res, next) => {
    if (req.method !== 'GET' || req.path.startsWith('/static/') || req.path.startsWith('/api/')) return next();
    const send = res.send.bind(res);
    res.send = (body?: unknown) => send(typeof body === 'string' ? body.replace(THIRD_PARTY_STYLESHEET, '') : body);
    next();
  };
}

export function mountOperations(
  app: Express,
  opts: { registry: Registry; producers: Producers; guards: RequestHandler[]; config: Config },
): void {
  app.get('/metrics', metricsGuard(opts.config), async (_req, res) => {
    res.set('Content-Type', opts.registry.contentType).send(await opts.registry.metrics());
  });
  const board = new ExpressAdapter();
  board.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: Object.values(QUEUES).map((name) => new BullMQAdapter(opts.producers.queue(name))),
    serverAdapter: board,
  });
  app.use(
    QUEUE_DASHBOARD_PATH,
    sameOriginForChanges(opts.config.publicBaseUrl),
    ...opts.guards,
    withoutThirdPartyFonts(),
    board.getRouter() as RequestHandler,
  );
}
