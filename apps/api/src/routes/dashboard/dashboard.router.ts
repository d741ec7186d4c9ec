import type { RouteSpec } from '../../http/route';
import type { Services } from '../../services';
import { principalOf } from '../../auth/authenticate';
import { summaryOut, summaryQuery } from './dashboard.schemas';

export function dashboardRoutes({ dashboard }: Services): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/dashboard/summary',
      summary: "The caller's workspace in numbers: clients, reminders, notifications, delivery and payments",
      description:
        'Clients and reminders as they are now; reminder notifications and payments created in the period ' +
        '[from, to), by default the last 30 days.',
      tags: ['dashboard'],
      access: 'user',
      schemas: { query: summaryQuery },
      responses: {
        200: { description: 'The summary', schema: summaryOut },
        403: { description: 'Not in a workspace (NO_WORKSPACE)' },
      },
      handler: async (req, res) => {
        const q = req.valid.query as { from?: Date; to?: Date };
        res.json(await dashboard.summary(principalOf(req), q));
      },
    },
  ];
}
