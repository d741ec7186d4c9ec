import Joi from 'joi';
import type { Config } from '@nudge/config';
import { validateBirthdayTemplate } from '@nudge/domain';
// The Slack URL rule only: apps/api may use @nudge/channels for URL rules, signature checks and Stripe onboarding.
import { checkSlackWebhookUrl, slackWebhookPolicy } from '@nudge/channels';
import { answer, name, pageOf, postTime, timezone, uuid } from '../../http/schemas';

const SLACK_PATH = /^\/services\/T[A-Z0-9]+\/B[A-Z0-9]+\/[A-Za-z0-9]+$/;
/**
 * A Slack incoming-webhook URL that may be saved: the adapter's own outbound rules (https, or http to a listed
 * loopback host outside production; a host in SLACK_WEBHOOK_HOSTS; no credentials), plus Slack's path shape.
 */
export function isAllowedSlackWebhook(
  value: string,
  config: Pick<Config, 'slackWebhookHosts' | 'isProduction'>,
): boolean {
  if (checkSlackWebhookUrl(value, slackWebhookPolicy(config))) return false;
  const u = new URL(value);
  return !u.search && !u.hash && SLACK_PATH.test(u.pathname);
}

export function workspaceSchemas(config: Config) {
  const slackWebhook = () =>
    Joi.string()
      .max(500)
      // Stored as parsed, so the adapter later posts to exactly the URL that was checked (no `\`, `..` or case
      // variants for another parser to read differently).
      .custom((v: string, helpers) =>
        isAllowedSlackWebhook(v, config) ? new URL(v).href : helpers.error('slack.webhook'),
      )
      .messages({
        'slack.webhook': `"{{#label}}" must be an https Slack incoming-webhook URL (/services/T…/B…/…) on an allowed host (${config.slackWebhookHosts.join(', ')})`,
      });
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
    default_channels: Joi.array()
      .items(Joi.string().valid('email', 'sms', 'whatsapp'))
      .unique(),
    currency: Joi.string()
      .uppercase()
      .pattern(/^[A-Z]{3}$/),
    notify_on_payment: Joi.boolean().description("Mail the workspace's owner when a client pays"),
  };
  return {
    create: Joi.object({ ...fields, name: name().required() }),
    // slack_status is the server's to set; naming it answers 403 in the service.
    update: Joi.object({ ...fields, slack_status: Joi.string().valid('ok', 'broken', 'undecryptable') }),
    invite: Joi.object({ role: Joi.string().valid('member', 'admin').default('member') }),
  };
}

export const workspaceOut = answer({
  id: uuid(),
  name: Joi.string(),
  timezone: Joi.string(),
  birthday_post_time: Joi.string(),
  birthday_message_template: Joi.string().allow(null),
  leap_day_rule: Joi.string().valid('feb28', 'mar1'),
  slack_webhook: Joi.string()
    .allow(null)
    .description('Masked: <scheme>://<host>/services/**** and the last 4 characters'),
  slack_status: Joi.string().valid('ok', 'broken', 'undecryptable'),
  sender_name: Joi.string().allow(null),
  default_channels: Joi.array().items(Joi.string().valid('email', 'sms', 'whatsapp')),
  currency: Joi.string().pattern(/^[A-Z]{3}$/),
  stripe: answer({
    account_id: Joi.string().allow(null).description('The Stripe Connect account; null until onboarding starts'),
    charges_enabled: Joi.boolean(),
  }),
  notify_on_payment: Joi.boolean(),
  created_at: Joi.date(),
  updated_at: Joi.date(),
});
export const workspaceList = Joi.array().items(workspaceOut);
export const inviteOut = answer({ invite_token: Joi.string(), expires_at: Joi.date() });
export const pendingInviteOut = answer({
  id: uuid(),
  role: Joi.string().valid('member', 'admin'),
  created_by: uuid().allow(null),
  created_at: Joi.date(),
  expires_at: Joi.date(),
});
export const pendingInvitePage = pageOf(pendingInviteOut);
export const inviteParams = Joi.object({ id: uuid().required(), invite_id: uuid().required() });

/** POST /workspaces/{id}/stripe/connect: where the business finishes Stripe Connect onboarding. */
export const stripeConnectOut = answer({
  onboarding_url: Joi.string().uri().required().description("Stripe's one-time onboarding page (Account Link)"),
});
