// POST /reminders/{id}/send-now: the optional clients to send to, and the answer.
import Joi from 'joi';
import { answer, uuid } from '../../http/schemas';

export const sendNowBody = Joi.object({
  client_ids: Joi.array().items(uuid()).min(1).max(10_000).unique(),
});

export const sendNowOut = answer({
  reminder_id: uuid(),
  notification_count: Joi.number().integer().min(0),
  notification_ids: Joi.array().items(uuid()),
});
