import Joi from 'joi';
import { timezones } from '@nudge/config';
import type { RouteSpec } from '../../http/route';

export function utilsRoutes(): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/utils/timezones',
      summary: 'Every IANA timezone name Nudge accepts, including UTC and the tzdb backward aliases',
      tags: ['utils'],
      access: 'public',
      responses: { 200: { description: 'Sorted names', schema: Joi.object({ timezones: Joi.array().items(Joi.string()) }) } },
      handler: (_req, res) => {
        res.json({ timezones });
      },
    },
  ];
}
