import Joi from 'joi';
import { answer, email, uuid } from '../../http/schemas';
import { pageOf, pageQuery } from '../../http/pagination';

const channel = () => Joi.string().valid('email', 'sms', 'whatsapp');
const provider = () => Joi.string().valid('sendgrid', 'smtp', 'twilio');

/**
 * Every field an account may have. Which ones a provider takes, which it requires and the credential formats are
 * checked by the service (they depend on the provider, and the formats on STRICT_VALIDATION).
 */
const accountFields = {
  name: Joi.string().trim().max(200).allow(null),
  from_email: email().allow(null),
  from_name: Joi.string().trim().max(200).allow(null),
  account_sid: Joi.string().trim().max(64).allow(null),
  sms_from: Joi.string().trim().max(64).allow(null),
  whatsapp_from: Joi.string().trim().max(64).allow(null),
  api_key: Joi.string().trim().min(1).max(512).description('SendGrid API key (never answered)'),
  smtp_url: Joi.string()
    .trim()
    .max(2048)
    .description('smtp[s]://user:password@host:port (answered without its password)'),
  auth_token: Joi.string().trim().min(1).max(256).description('Twilio auth token (never answered)'),
  is_active: Joi.boolean(),
};

export const createAccountBody = Joi.object({
  ...accountFields,
  channel: channel().required(),
  provider: provider().required(),
  workspace_id: uuid(),
});
export const updateAccountBody = Joi.object(accountFields).min(1);
export const listAccountsQuery = Joi.object(pageQuery);

export const accountOut = answer({
  id: uuid(),
  workspace_id: uuid(),
  channel: channel(),
  provider: provider(),
  name: Joi.string().allow(null),
  from_email: Joi.string().allow(null),
  from_name: Joi.string().allow(null),
  account_sid: Joi.string().allow(null),
  sms_from: Joi.string().allow(null),
  whatsapp_from: Joi.string().allow(null),
  smtp_url: Joi.string().allow(null),
  has_api_key: Joi.boolean(),
  has_smtp_password: Joi.boolean(),
  has_auth_token: Joi.boolean(),
  is_active: Joi.boolean(),
  last_test_at: Joi.date().allow(null),
  last_test_status: Joi.string().valid('queued', 'ok', 'failed').allow(null),
  last_test_error: Joi.string().allow(null),
  created_at: Joi.date(),
  updated_at: Joi.date(),
});
export const accountPage = pageOf(accountOut);
