import { pathId, type RouteSpec } from '../../http/route';
import type { Services } from '../../services';
import { principalOf } from '../../auth/authenticate';
import { idParams } from '../../http/schemas';
import type { NotificationListQuery } from '../../services/notifications.service';
import {
  countQuery,
  listQuery,
  noFields,
  notificationCount,
  notificationDetailOut,
  notificationOut,
  notificationPage,
} from './notifications.schemas';
import { serializeNotification, serializeNotificationDetail } from './notifications.serializers';

interface FilterQuery {
  status?: NotificationListQuery['status'];
  channel?: NotificationListQuery['channel'];
  kind?: NotificationListQuery['kind'];
  client_id?: string;
  reminder_id?: string;
  from?: Date;
  to?: Date;
  limit?: number;
  cursor?: string;
}

function filtersOf(q: FilterQuery) {
  return {
    status: q.status,
    channel: q.channel,
    kind: q.kind,
    clientId: q.client_id,
    reminderId: q.reminder_id,
    from: q.from,
    to: q.to,
  };
}

export function notificationsRoutes({ notifications }: Services): RouteSpec[] {
  const tags = ['notifications'];
  return [
    {
      method: 'get',
      path: '/notifications/',
      summary:
        "The caller's workspace's notifications, newest first (reminders and birthday posts); from/to bound created_at (from inclusive, to exclusive)",
      tags,
      access: 'user',
      schemas: { query: listQuery },
      responses: { 200: { description: 'A page of notifications', schema: notificationPage } },
      handler: async (req, res) => {
        const q = req.valid.query as unknown as FilterQuery & { limit: number };
        const page = await notifications.list(principalOf(req), { ...filtersOf(q), limit: q.limit, cursor: q.cursor });
        res.json({ items: page.items.map(serializeNotification), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'get',
      path: '/notifications/count',
      summary: "How many of the caller's workspace's notifications are in each status, and in all",
      tags,
      access: 'user',
      schemas: { query: countQuery },
      responses: { 200: { description: 'One key per status, and total', schema: notificationCount } },
      handler: async (req, res) => {
        const { status: _status, ...filters } = filtersOf(req.valid.query);
        res.json(await notifications.count(principalOf(req), filters));
      },
    },
    {
      method: 'get',
      path: '/notifications/:id',
      summary: 'A notification with its reminder title, client name and attempts',
      tags,
      access: 'user',
      schemas: { params: idParams },
      responses: { 200: { description: 'The notification', schema: notificationDetailOut } },
      handler: async (req, res) => {
        res.json(serializeNotificationDetail(await notifications.get(principalOf(req), pathId(req))));
      },
    },
    {
      method: 'post',
      path: '/notifications/:id/resend',
      summary: 'Send a failed, bounced or undeliverable notification again (owner or admin)',
      description:
        'A reminder or a birthday post. One that ended `outcome_unknown` (its send may have reached the provider) is ' +
        'never sent again by itself: this is how it is sent again, on purpose.',
      tags,
      access: 'user',
      schemas: { params: idParams, body: noFields },
      responses: {
        202: { description: 'Queued for a new attempt', schema: notificationOut },
        403: { description: 'Not an owner or admin of its workspace' },
        409: { description: 'Not failed, bounced or undeliverable (NOTIFICATION_NOT_RESENDABLE)' },
      },
      handler: async (req, res) => {
        res.status(202).json(serializeNotification(await notifications.resend(principalOf(req), pathId(req))));
      },
    },
    {
      method: 'post',
      path: '/notifications/:id/cancel',
      summary: 'Cancel a queued notification (owner or admin)',
      tags,
      access: 'user',
      schemas: { params: idParams, body: noFields },
      responses: {
        200: { description: 'The cancelled notification', schema: notificationOut },
        403: { description: 'Not an owner or admin of its workspace' },
        409: { description: 'Not queued (NOTIFICATION_NOT_CANCELLABLE)' },
      },
      handler: async (req, res) => {
        res.json(serializeNotification(await notifications.cancel(principalOf(req), pathId(req))));
      },
    },
  ];
}
