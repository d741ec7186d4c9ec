// GET /dashboard/summary: the period it takes and the exact shape of its answer.
import Joi from 'joi';
import { MESSAGE_CHANNELS, NOTIFICATION_STATUSES, REMINDER_STATUSES } from '@nudge/db';
import { answer } from '../../http/schemas';

const count = () => Joi.number().integer().min(0);
const counts = (keys: readonly string[]) => answer(Object.fromEntries(keys.map((k) => [k, count()])));

/** Both optional: `to` defaults to now, `from` to 30 days before `to`; from inclusive, to exclusive. */
export const summaryQuery = Joi.object({
  from: Joi.date().iso(),
  to: Joi.date()
    .iso()
    .when('from', { is: Joi.exist(), then: Joi.date().greater(Joi.ref('from')) }),
});

const money = () =>
  answer({
    count: count(),
    amounts: Joi.object()
      .pattern(/^[A-Z]{3}$/, count())
      .description('Sums per upper-case ISO 4217 currency, in minor units'),
  });

export const summaryOut = answer({
  from: Joi.date(),
  to: Joi.date(),
  clients: answer({ total: count(), active: count() }),
  reminders: answer({
    by_status: counts(REMINDER_STATUSES),
    due_next_7_days: count().description('Active reminders whose next run is within the next 7 days'),
  }),
  notifications: answer({
    by_status: counts(NOTIFICATION_STATUSES),
    by_channel: counts(MESSAGE_CHANNELS),
    delivery_rate: Joi.number()
      .min(0)
      .max(1)
      .allow(null)
      .description('delivered / (sent + delivered + failed + bounced + undeliverable) on email, SMS and WhatsApp'),
    top_failure_reasons: Joi.array().items(answer({ reason: Joi.string(), count: count() })),
  }).description('Reminder notifications created in the period'),
  payments: answer({
    requested: money().description('Every payment created in the period'),
    paid: money().description('Of those, the ones paid (refunded later or not); processing is not paid'),
    outstanding: money().description('Of those, the ones still open or processing'),
    refunded: money().description('Of those, the ones refunded in part or in full; amounts are the refunds'),
  }),
  median_seconds_to_payment: Joi.number()
    .integer()
    .min(0)
    .allow(null)
    .description("Median from a client's first reminder to the payment, over the period's paid payments"),
});
