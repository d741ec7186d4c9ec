import Joi from 'joi';
import { answer, name, uuid } from '../../http/schemas';
import { pageOf, pageQuery } from '../../http/pagination';
import { CLIENT_CHANNELS, clientFields } from '../../services/client-fields';
import { MAX_IMPORT_ROWS } from '../../services/client-import-rows';

/** POST /clients/: the platform admin names workspace_id; the timezone defaults to the workspace's. */
export const createClientBody = Joi.object({ ...clientFields, name: name().required(), workspace_id: uuid() });
export const updateClientBody = Joi.object(clientFields).min(1);

export const listClientsQuery = Joi.object({
  ...pageQuery,
  search: Joi.string().trim().min(1).max(200),
  is_active: Joi.boolean(),
});

export const importClientsQuery = Joi.object({
  dry_run: Joi.boolean().default(false),
  workspace_id: uuid(),
});

/**
 * A JSON array of rows (checked one by one, failures answered per row), or the CSV text. More than MAX_IMPORT_ROWS
 * rows is a 422 for the whole body.
 */
export const importClientsBody = Joi.alternatives()
  .try(Joi.array().max(MAX_IMPORT_ROWS).items(Joi.any()), Joi.string())
  .messages({ 'array.max': `"{{#label}}" has more than ${MAX_IMPORT_ROWS} rows` });

export const clientOut = answer({
  id: uuid(),
  workspace_id: uuid(),
  name: Joi.string(),
  email: Joi.string().allow(null),
  phone: Joi.string().allow(null).description('E.164 to owners and admins, masked (+44••••••789) to members'),
  whatsapp: Joi.string().allow(null).description('E.164 to owners and admins, masked to members'),
  preferred_channel: Joi.string()
    .valid(...CLIENT_CHANNELS)
    .allow(null),
  timezone: Joi.string(),
  locale: Joi.string().allow(null),
  notes: Joi.string().allow(null, ''),
  external_ref: Joi.string().allow(null),
  is_active: Joi.boolean(),
  opt_out: answer({ email: Joi.boolean(), sms: Joi.boolean(), whatsapp: Joi.boolean() }),
  created_at: Joi.date(),
  updated_at: Joi.date(),
});
export const clientDetailOut = clientOut.keys({
  counts: answer({
    reminders: Joi.number().integer(),
    active_reminders: Joi.number().integer(),
    notifications: Joi.number().integer(),
    payments: Joi.number().integer(),
  }).required(),
});
export const clientPage = pageOf(clientOut);

export const importResultOut = answer({
  imported_count: Joi.number().integer(),
  updated_count: Joi.number().integer(),
  failed_count: Joi.number().integer(),
  failed_imports: Joi.array().items(
    answer({
      row: Joi.number().integer(),
      errors: Joi.array().items(answer({ field: Joi.string(), msg: Joi.string() })),
    }),
  ),
});
