// Notification history: the filters of the listing and the count, and every answer's exact shape.
import Joi from 'joi';
import { NOTIFICATION_STATUSES } from '@nudge/db';
import { answer, uuid } from '../../http/schemas';

const status = () => Joi.string().valid(...NOTIFICATION_STATUSES);
const channel = () => Joi.string().valid('slack', 'email', 'sms', 'whatsapp');
const kind = () => Joi.string().valid('birthday', 'reminder');

/** Filters both the listing and the count take; `from` is inclusive and `to` exclusive, on created_at. */
const filters = {
  channel: channel(),
  kind: kind(),
  client_id: uuid(),
  reminder_id: uuid(),
  from: Joi.date().iso(),
  to: Joi.date()
    .iso()
    .when('from', { is: Joi.exist(), then: Joi.date().greater(Joi.ref('from')) }),
};

export const listQuery = Joi.object({
  ...filters,
  status: status(),
  limit: Joi.number().integer().min(1).max(200).default(50),
  cursor: Joi.string().max(500),
});

export const countQuery = Joi.object(filters);

const time = () => Joi.date().allow(null);

export const notificationFields = {
  id: uuid(),
  kind: kind(),
  reminder_id: uuid().allow(null),
  client_id: uuid().allow(null),
  channel: channel(),
  status: status(),
  attempt_count: Joi.number().integer().min(0),
  last_error: Joi.string().allow(null),
  provider: Joi.string().allow(null),
  provider_message_id: Joi.string().allow(null),
  occurrence_at: time(),
  sent_at: time(),
  delivered_at: time(),
  created_at: Joi.date(),
};

export const notificationOut = answer(notificationFields);

export const attemptOut = answer({
  attempt: Joi.number().integer().min(1),
  outcome: Joi.string(),
  http_status: Joi.number().integer().allow(null),
  error: Joi.string().allow(null),
  duration_ms: Joi.number().integer().min(0),
  created_at: Joi.date(),
});

export const notificationDetailOut = answer({
  ...notificationFields,
  reminder_title: Joi.string().allow(null),
  client_name: Joi.string().allow(null),
  attempts: Joi.array().items(attemptOut),
});

export const notificationPage = answer({
  items: Joi.array().items(notificationOut),
  next_cursor: Joi.string().allow(null),
});

export const notificationCount = answer(
  Object.fromEntries([...NOTIFICATION_STATUSES, 'total'].map((s) => [s, Joi.number().integer().min(0)])),
);

/** Resend and cancel take no fields; an empty JSON object is accepted, as clients often send one. */
export const noFields = Joi.object({});
