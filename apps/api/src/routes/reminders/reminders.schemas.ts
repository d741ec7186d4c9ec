// The reminders API's request and answer shapes. Templates and RRULEs are checked here with the domain's own rules,
// so a bad one answers 422 naming its field (`schedule.rrule`, `message_template`) before any service runs.
import Joi from 'joi';
import { isTimezone } from '@nudge/config';
import { isKnownCurrency, recurrenceRuleError, validateReminderTemplate } from '@nudge/domain';
import { answer, calendarDate, isoInstant, uuid } from '../../http/schemas';

export const REMINDER_TYPES = ['payment', 'deadline', 'notification'] as const;
export const REMINDER_STATUSES = ['active', 'paused', 'completed', 'cancelled'] as const;
export const REMINDER_CHANNELS = ['email', 'sms', 'whatsapp', 'auto'] as const;
/** How far ahead a one-time reminder must be: the scan needs time to claim it. */
export const ONCE_MIN_LEAD_MS = 60_000;

const template = (max: number) =>
  Joi.string()
    .min(1)
    .max(max)
    .custom((value: string, helpers) => {
      const unknown = validateReminderTemplate(value);
      return unknown.length
        ? helpers.error('template.unknown', { names: unknown.map((n) => `{{${n}}}`).join(', ') })
        : value;
    })
    .messages({ 'template.unknown': '"{{#label}}" uses unknown variables: {{#names}}' });

const scheduleTimezone = () =>
  Joi.string()
    .custom((value: string, helpers) =>
      value === 'recipient' || isTimezone(value) ? value : helpers.error('timezone.unknown'),
    )
    .messages({
      'timezone.unknown': '"{{#label}}" must be an IANA timezone (see GET /utils/timezones) or "recipient"',
    });

const rrule = () =>
  Joi.string()
    .max(1000)
    .custom((value: string, helpers) => {
      const problem = recurrenceRuleError(value);
      return problem ? helpers.error('rrule.invalid', { problem }) : value;
    })
    .messages({ 'rrule.invalid': '"{{#label}}" {{#problem}}' });

const sendAt = () =>
  isoInstant()
    .custom((value: string, helpers) =>
      Date.parse(value) < Date.now() + ONCE_MIN_LEAD_MS ? helpers.error('date.tooSoon') : value,
    )
    .messages({ 'date.tooSoon': '"{{#label}}" must be at least a minute ahead' });

const isRecurring = { is: 'recurring', then: Joi.required(), otherwise: Joi.forbidden() } as const;

/** `{kind:'once', send_at}` or `{kind:'recurring', rrule, timezone, starts_at?, until? | count?}`, kept as given. */
export const scheduleIn = () =>
  Joi.object({
    kind: Joi.string().valid('once', 'recurring').required(),
    send_at: sendAt().when('kind', { is: 'once', then: Joi.required(), otherwise: Joi.forbidden() }),
    rrule: rrule().when('kind', isRecurring),
    timezone: scheduleTimezone().when('kind', isRecurring),
    starts_at: isoInstant().when('kind', { is: 'recurring', otherwise: Joi.forbidden() }),
    until: isoInstant().when('kind', { is: 'recurring', otherwise: Joi.forbidden() }),
    count: Joi.number().integer().min(1).max(10_000).when('kind', { is: 'recurring', otherwise: Joi.forbidden() }),
  }).oxor('until', 'count');

const currency = () =>
  Joi.string()
    .custom((value: string, helpers) =>
      isKnownCurrency(value) ? value.toUpperCase() : helpers.error('currency.unknown'),
    )
    .messages({ 'currency.unknown': '"{{#label}}" is not an ISO 4217 currency code' });

const fields = {
  title: Joi.string().trim().min(1).max(200),
  type: Joi.string().valid(...REMINDER_TYPES),
  document_url: Joi.string()
    .uri({ scheme: ['https'] })
    .max(2048)
    .allow(null)
    .messages({ 'string.uriCustomScheme': '"{{#label}}" must be an https URL' }),
  message_template: template(5000),
  subject_template: template(300),
  channels: Joi.array()
    .items(Joi.string().valid(...REMINDER_CHANNELS))
    .min(1)
    .unique(),
  schedule: scheduleIn(),
  amount: Joi.number().integer().min(1).max(Number.MAX_SAFE_INTEGER),
  currency: currency(),
  due_date: calendarDate().allow(null),
};

const clientIds = () => Joi.array().items(uuid()).max(1000);

export const createReminderBody = Joi.object({
  ...fields,
  title: fields.title.required(),
  type: fields.type.required(),
  message_template: fields.message_template.required(),
  schedule: fields.schedule.required(),
  amount: fields.amount.when('type', { is: 'payment', then: Joi.required() }),
  client_ids: clientIds().unique().default([]),
  /** The platform admin names the workspace; anyone else may only name their own. */
  workspace_id: uuid(),
});

export const updateReminderBody = Joi.object({ ...fields, amount: fields.amount.allow(null) }).min(1);

export const reminderClientsBody = Joi.object({ client_ids: clientIds().min(1).required() });

export const listRemindersQuery = Joi.object({
  status: Joi.string().valid(...REMINDER_STATUSES),
  type: Joi.string().valid(...REMINDER_TYPES),
  client_id: uuid(),
  limit: Joi.number().integer().min(1).max(200).default(50),
  cursor: Joi.string().max(500),
});

export const occurrencesQuery = Joi.object({ count: Joi.number().integer().min(1).max(100).default(10) });
export const previewQuery = Joi.object({ client_id: uuid() });

const scheduleOut = Joi.alternatives().try(
  Joi.object({ kind: Joi.string().valid('once').required(), send_at: Joi.string().required() }),
  Joi.object({
    kind: Joi.string().valid('recurring').required(),
    rrule: Joi.string().required(),
    timezone: Joi.string().required(),
    starts_at: Joi.string(),
    until: Joi.string(),
    count: Joi.number().integer(),
  }),
);

export const reminderOut = answer({
  id: uuid(),
  workspace_id: uuid(),
  created_by: uuid().allow(null),
  title: Joi.string(),
  type: Joi.string().valid(...REMINDER_TYPES),
  document_url: Joi.string().allow(null),
  message_template: Joi.string(),
  subject_template: Joi.string(),
  channels: Joi.array().items(Joi.string().valid(...REMINDER_CHANNELS)),
  schedule: scheduleOut,
  status: Joi.string().valid(...REMINDER_STATUSES),
  amount: Joi.number().integer().allow(null),
  currency: Joi.string().allow(null),
  due_date: Joi.string().allow(null),
  client_ids: Joi.array().items(uuid()),
  next_run_at: Joi.date().allow(null),
  created_at: Joi.date(),
  updated_at: Joi.date(),
});

export const reminderList = answer({ items: Joi.array().items(reminderOut), next_cursor: Joi.string().allow(null) });

export const occurrencesOut = answer({
  occurrences: Joi.array().items(
    Joi.object({
      at: Joi.date().required(),
      local: Joi.string().required(),
      client_id: uuid(),
    }),
  ),
});

export const previewOut = answer({
  reminder_id: uuid(),
  client_id: uuid().allow(null),
  channels: Joi.array().items(
    answer({
      channel: Joi.string().valid('email', 'sms', 'whatsapp'),
      subject: Joi.string().allow(null, ''),
      body: Joi.string().allow(''),
      sms: answer({
        encoding: Joi.string().valid('GSM-7', 'UCS-2'),
        segments: Joi.number().integer(),
        units: Joi.number().integer(),
      }).allow(null),
    }),
  ),
});

/** POST /reminders/{id}/send-now: optionally, which of its clients. */
export const sendNowBody = Joi.object({ client_ids: clientIds().min(1).unique() });

export const sendNowOut = answer({
  reminder_id: uuid(),
  notification_count: Joi.number().integer().min(0),
  notification_ids: Joi.array().items(uuid()),
});
