// Send-now: a reminder goes out at once to its active clients (or those named), outside its schedule. The
// notifications are inserted through the scan's own repository function, with the current minute as the
// occurrence, so a repeat within the minute finds them (same ids, nothing sent twice) and the scan and send-now can
// never send one (reminder, client, occurrence) twice. They are enqueued after the insert commits. Limited per
// workspace (REMINDER_SEND_NOW_PER_MINUTE). A payment reminder gets each notification's payment row in the same
// transaction and a billing-checkout job instead of the dispatch job (the billing worker makes the link, then
// enqueues the notification), as in the scan; a client who has paid for it is left out.
import {
  findReminder,
  findReminderRecipients,
  insertReminderNotifications,
  insertReminderPayments,
  type Db,
} from '@nudge/db';
import type { Logger } from '@nudge/logger';
import type { Producers } from '@nudge/queue';
import { idScope, isManagerOf, type Principal } from '../auth/principal';
import { Conflict, Forbidden, NotFound, ValidationFailed } from '../errors/domain-errors';
import { enqueueCheckouts, enqueueNotifications } from './notification-dispatch';
import type { SendNowRateLimit } from './rate-limits';

export interface SendNowResult {
  reminder_id: string;
  notification_count: number;
  notification_ids: string[];
}

/** The minute `now` falls in: every send-now within it is one occurrence. */
export function occurrenceMinute(now: Date): Date {
  return new Date(Math.floor(now.getTime() / 60_000) * 60_000);
}

export class ReminderSendService {
  constructor(private readonly deps: { db: Db; producers: Producers; logger: Logger; limit: SendNowRateLimit }) {}

  async sendNow(p: Principal, reminderId: string, clientIds?: string[], now = new Date()): Promise<SendNowResult> {
    const { db } = this.deps;
    const reminder = await findReminder(db, idScope(p), reminderId);
    if (!reminder) throw new NotFound('No such reminder');
    if (!isManagerOf(p, reminder.workspace_id)) throw new Forbidden();
    if (reminder.status === 'completed' || reminder.status === 'cancelled')
      throw new Conflict(`This reminder is ${reminder.status}`, 'REMINDER_FINISHED');
    // A paused one too: its dispatch jobs would find it paused and cancel what was just sent.
    if (reminder.status === 'paused') throw new Conflict('This reminder is paused; resume it first', 'REMINDER_PAUSED');
    await this.deps.limit.consume(reminder.workspace_id);

    const recipients = await findReminderRecipients(db, reminder.workspace_id, reminderId, clientIds);
    if (clientIds) {
      const found = new Set(recipients.map((r) => r.client_id));
      const issues = clientIds.flatMap((id, i) =>
        found.has(id)
          ? []
          : [
              {
                loc: ['body', 'client_ids', i],
                msg: `"${id}" is not an active client of this reminder`,
                type: 'any.invalid',
              },
            ],
      );
      if (issues.length) throw new ValidationFailed(issues);
    }
    const occurrenceAt = occurrenceMinute(now);
    const { results, payments } = await db.transaction(async (trx) => {
      const inserted = await insertReminderNotifications(
        trx,
        recipients.filter((r) => !r.has_paid).map((recipient) => ({ recipient, occurrenceAt })),
      );
      const created = inserted.filter((r) => r.created).map((r) => r.notification);
      return { results: inserted, created, payments: await insertReminderPayments(trx, created) };
    });
    const waiting = new Set(payments.map((p) => p.notification_id));
    await enqueueCheckouts(this.deps, payments);
    await enqueueNotifications(
      this.deps,
      results.filter((r) => r.created && !waiting.has(r.notification.id)).map((r) => r.notification),
    );
    return {
      reminder_id: reminderId,
      notification_count: results.length,
      notification_ids: results.map((r) => r.notification.id),
    };
  }
}
