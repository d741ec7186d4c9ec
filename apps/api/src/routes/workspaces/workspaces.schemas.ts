import Joi from 'joi';
import type { Config } from '@nudge/config';
import { validateBirthdayTemplate } from '@nudge/db';
import { name, postTime, timezone, uuid } from '../../http/schemas';

const SLACK_PATH = /^\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]+$/;
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

/**
 * A Slack incoming-webhook URL on an allowed host (SSRF): https, a host listed in SLACK_WEBHOOK_HOSTS (exact name,
 * any port) and Slack's path. Outside production, http is accepted for a listed loopback host (tests, demos).
 */
export function isAllowedSlackWebhook(value: string, config: Pick<Config, 'slackWebhookHosts' | 'isProduction'>): boolean {
  let u: URL;
  try {
    u = new URL(value);
  } catch {
    return false;
  }
  if (u.username || u.password || u.search || u.hash) return false;
  if (!config.slackWebhookHosts.some((h) => h.toLowerCase() === u.hostname)) return false;
  const httpOk = !config.isProduction && LOOPBACK.has(u.hostname);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && httpOk)) return false;
  return SLACK_PATH.test(u.pathname);
}

export function workspaceSchemas(config: Config) {
  const slackWebhook = () =>
    Joi.string()
      .max(500)
      // Stored as parsed, so the adapter later posts to exactly the URL that was checked (no `\`, `..` or case
      // variants for another parser to read differently).
      .custom((v: string, helpers) => (isAllowedSlackWebhook(v, config) ? new URL(v).href : helpers.error('slack.webhook')))
      .messages({ 'slack.webhook': `"{{#label}}" must be an https Slack incoming-webhook URL (/services/T…/B…/…) on an allowed host (${config.slackWebhookHosts.join(', ')})` });
  const template = () =>
    Joi.string()
      .custom((v: string, helpers) => {
        const problem = validateBirthdayTemplate(v);
        return problem ? helpers.error('template.invalid', { problem }) : v;
      })
      .messages({ 'template.invalid': '"{{#label}}" {{#problem}}' });

  const fields = {
    name: name(),
    timezone: timezone(),
    birthday_post_time: postTime(),
    birthday_message_template: template().allow(null),
    leap_day_rule: Joi.string().valid('feb28', 'mar1'),
    slack_webhook: slackWebhook().allow(null),
    sender_name: Joi.string().trim().max(200).allow(null),
    default_channels: Joi.array().items(Joi.string().valid('email', 'sms', 'whatsapp')).unique(),
    currency: Joi.string().lowercase().pattern(/^[a-z]{3}$/),
  };
  return {
    create: Joi.object({ ...fields, name: name().required() }),
    // slack_status is the server's to set; naming it answers 403 in the service.
    update: Joi.object({ ...fields, slack_status: Joi.string().valid('ok', 'broken') }),
    invite: Joi.object({ role: Joi.string().valid('member', 'admin').default('member') }),
  };
}

export const workspaceOut = Joi.object({
  id: uuid(), name: Joi.string(), timezone: Joi.string(), birthday_post_time: Joi.string(), birthday_message_template: Joi.string().allow(null),
  leap_day_rule: Joi.string(), slack_webhook: Joi.string().allow(null).description('Masked: <scheme>://<host>/services/**** and the last 4 characters'),
  slack_status: Joi.string(), created_at: Joi.date(), updated_at: Joi.date(),
});
export const workspaceList = Joi.array().items(workspaceOut);
export const inviteOut = Joi.object({ invite_token: Joi.string(), expires_at: Joi.date() });
