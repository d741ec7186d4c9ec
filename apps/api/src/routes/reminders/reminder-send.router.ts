// POST /reminders/{id}/send-now. Kept in its own table until the reminders router lands, then joins it.
import { pathId, type RouteSpec } from '../../http/route';
import type { Services } from '../../services';
import { principalOf } from '../../auth/authenticate';
import { idParams } from '../../http/schemas';
import { sendNowBody, sendNowOut } from './reminder-send.schemas';

export function reminderSendRoutes({ reminderSend }: Services): RouteSpec[] {
  return [
    {
      method: 'post',
      path: '/reminders/:id/send-now',
      summary:
        'Send a reminder now to its active clients, or those named (owner or admin); a repeat within the same minute answers the same notifications and sends nothing more',
      tags: ['reminders'],
      access: 'user',
      schemas: { params: idParams, body: sendNowBody },
      responses: {
        202: { description: 'The notifications, queued', schema: sendNowOut },
        403: { description: 'Not an owner or admin of its workspace' },
        409: { description: 'The reminder is paused, completed or cancelled (REMINDER_NOT_ACTIVE)' },
        429: { description: 'Over REMINDER_SEND_NOW_PER_MINUTE for the workspace' },
      },
      handler: async (req, res) => {
        const body = req.valid.body as { client_ids?: string[] };
        res.status(202).json(await reminderSend.sendNow(principalOf(req), pathId(req), body.client_ids));
      },
    },
  ];
}
