import Joi from 'joi';
import { pingDb } from '@nudge/db';
import { pingRedis } from '@nudge/queue';
import type { RouteSpec } from '../../http/route';
import type { AppDeps } from '../../deps';

const status = Joi.object({ status: Joi.string().valid('ok', 'down').required(), checks: Joi.object().pattern(Joi.string(), Joi.string().valid('ok', 'down')) });

export function healthRoutes({ db, redis }: AppDeps): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/health',
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
      responses: { 200: { description: 'Ready', schema: status }, 503: { description: 'A dependency is down', schema: status } },
      handler: async (_req, res) => {
        const [pg, rd] = await Promise.all([pingDb(db, 1000), pingRedis(redis, 1000)]);
        const checks = { postgres: pg ? 'ok' : 'down', redis: rd ? 'ok' : 'down' };
        const ok = pg && rd;
        res.status(ok ? 200 : 503).json({ status: ok ? 'ok' : 'down', checks });
      },
    },
  ];
}
