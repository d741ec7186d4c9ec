import Joi from 'joi';
import type { RouteSpec } from '../../http/route';
import type { Services } from '../../services';

const status = Joi.object({
  status: Joi.string().valid('ok', 'down').required(),
  checks: Joi.object().pattern(Joi.string(), Joi.string().valid('ok', 'down')),
});

export function healthRoutes({ health }: Services): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/health',
      usesStorage: false,
      summary: 'The process is alive',
      tags: ['operations'],
      access: 'public',
      responses: { 200: { description: 'Alive', schema: status } },
      handler: (_req, res) => {
        res.json({ status: 'ok' });
      },
    },
    {
      method: 'get',
      path: '/ready',
      summary: 'PostgreSQL and Redis answer within 1 s each',
      tags: ['operations'],
      access: 'public',
      responses: {
        200: { description: 'Ready', schema: status },
        503: { description: 'A dependency is down', schema: status },
      },
      handler: async (_req, res) => {
        const checks = await health.readiness(1000);
        const ok = checks.postgres === 'ok' && checks.redis === 'ok';
        res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'down', checks });
      },
    },
  ];
}
