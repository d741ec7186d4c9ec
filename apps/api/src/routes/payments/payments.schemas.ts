// Payments: the listing's filters, and every answer's exact shape.
import Joi from 'joi';
import { PAYMENT_STATUSES } from '@nudge/domain';
import { answer, pageOf, pageQuery, uuid } from '../../http/schemas';

const status = () => Joi.string().valid(...PAYMENT_STATUSES);
const currency = () => Joi.string().pattern(/^[A-Z]{3}$/);
const minorUnits = () => Joi.number().integer().min(0);

/** `from` is inclusive and `to` exclusive, on created_at. */
export const listQuery = pageQuery({
  status: status(),
  client_id: uuid(),
  reminder_id: uuid(),
  from: Joi.date().iso(),
  to: Joi.date()
    .iso()
    .when('from', { is: Joi.exist(), then: Joi.date().greater(Joi.ref('from')) }),
});

export const paymentFields = {
  id: uuid(),
  reminder_id: uuid().allow(null),
  client_id: uuid().allow(null),
  notification_id: uuid().allow(null),
  amount: Joi.number().integer().min(1).description('Minor units of the currency (cents)'),
  currency: currency(),
  status: status(),
  checkout_url: Joi.string().allow(null).description('The Stripe Checkout link; null until the worker has made it'),
  paid_at: Joi.date().allow(null),
  refunded_amount: minorUnits(),
  created_at: Joi.date(),
};

export const paymentOut = answer(paymentFields);
export const paymentPage = pageOf(paymentOut);

export const paymentEventOut = answer({
  id: Joi.string().description("Stripe's event id"),
  type: Joi.string(),
  received_at: Joi.date(),
  processed_at: Joi.date().allow(null),
});

export const paymentDetailOut = answer({ ...paymentFields, events: Joi.array().items(paymentEventOut) });

/** Cancel takes no fields; an empty JSON object is accepted, as clients often send one. */
export const noFields = Joi.object({});

/** Stripe appends the session id to the success URL; the cancel URL may carry the payment's id. */
export const payerPageQuery = Joi.object({
  session_id: Joi.string().allow('').description('The Checkout Session id Stripe puts in the success URL'),
  payment_id: Joi.string().allow('').description('A payment id, when the cancel URL names one'),
}).unknown(true);
