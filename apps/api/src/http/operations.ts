// Operations endpoints served at the root only: Prometheus metrics and the queue dashboard (platform admins).
import type { Express, RequestHandler } from 'express';
import { Registry, Histogram, collectDefaultMetrics } from 'prom-client';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { QUEUES, type Producers } from '@nudge/queue';

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

export function enableProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
}

export function mountOperations(
  app: Express,
  opts: { registry: Registry; producers: Producers; guards: RequestHandler[] },
): void {
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', opts.registry.contentType).send(await opts.registry.metrics());
  });
  const board = new ExpressAdapter();
  board.setBasePath(QUEUE_DASHBOARD_PATH);
  createBullBoard({
    queues: Object.values(QUEUES).map((name) => new BullMQAdapter(opts.producers.queue(name))),
    serverAdapter: board,
  });
  app.use(QUEUE_DASHBOARD_PATH, ...opts.guards, board.getRouter() as RequestHandler);
}
