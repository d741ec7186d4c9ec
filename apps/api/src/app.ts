// createApp builds the Express application from its dependencies. It opens no connection and starts no timer, so
// tests can build as many as they like.
import express from 'express';
import swaggerUi from 'swagger-ui-express';
import type { AppDeps } from './deps';
import { allRoutes } from './routes';
import { buildRouter } from './http/route';
import { buildOpenApi } from './http/openapi';
import { errorHandler, notFoundHandler } from './http/error-handler';
import { accessLog, requestId } from './http/request-context';
import { applyTransport } from './http/transport';
import { createServices } from './services';
import { createMetrics, instrumentQueues, instrumentRedisCircuit, mountOperations } from './http/operations';
import { circuitFor } from '@nudge/queue';
import { mountResetPasswordPage } from './pages/reset-password.page';

export function createApp(deps: AppDeps): express.Express {
  const { config, logger } = deps;
  const app = express();
  app.disable('x-powered-by');

  const metrics = createMetrics(deps.metricsRegistry);
  app.use(requestId());
  app.use(accessLog(logger));
  app.use(metrics.middleware);
  applyTransport(app, config);

  const services = createServices(deps);
  instrumentRedisCircuit(metrics.registry, circuitFor(deps.redis), logger);
  instrumentQueues(metrics.registry, deps);
  const routes = allRoutes(services);
  const api = buildRouter(routes, services.guards);
  const spec = buildOpenApi(routes, { title: 'Nudge API', version: '0.1.0' });
  // The very document /openapi.json serves, for in-process tools: the API tests check every answer against it.
  app.locals.openapi = spec;

  app.get('/openapi.json', (_req, res) => {
    res.json(spec);
  });
  // validatorUrl null: Swagger UI would otherwise send the spec's URL to validator.swagger.io for a badge.
  app.use(
    '/docs',
    swaggerUi.serve,
    swaggerUi.setup(undefined, {
      swaggerOptions: { url: '/openapi.json', persistAuthorization: true, validatorUrl: null },
    }),
  );
  mountResetPasswordPage(app);
  mountOperations(app, {
    registry: metrics.registry,
    producers: deps.producers,
    // The cookie of POST /admin/session is honoured here, and only here.
    guards: [services.guards.adminUser, services.guards.superuser],
    config,
  });
  app.use('/api/v1', api);
  app.use('/', api);

  app.use(notFoundHandler());
  app.use(errorHandler(logger));
  return app;
}
