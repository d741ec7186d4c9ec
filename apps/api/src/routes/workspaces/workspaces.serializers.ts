// The wire shape of a workspace, applied by the routes to whatever the workspaces service returns.
import type { PendingInvite, WorkspaceView } from '@nudge/db';

/** A workspace as the API shows it: the webhook only ever masked. */
export function serializeWorkspace(w: WorkspaceView) {
  return {
    id: w.id,
    name: w.name,
    timezone: w.timezone,
    birthday_post_time: w.birthday_post_time,
    birthday_message_template: w.birthday_message_template,
    leap_day_rule: w.leap_day_rule,
    slack_webhook: w.slack_webhook_masked,
    slack_status: w.slack_status,
    sender_name: w.sender_name,
    default_channels: w.default_channels,
    currency: w.currency,
    stripe: { account_id: w.stripe_account_id, charges_enabled: w.stripe_charges_enabled },
    notify_on_payment: w.notify_on_payment,
    created_at: w.created_at,
    updated_at: w.updated_at,
  };
}
export type WorkspaceOut = ReturnType<typeof serializeWorkspace>;

/** A pending invite: who made it and when it lapses, never its token. */
export function serializeInvite(i: PendingInvite) {
  return { id: i.id, role: i.role, created_by: i.created_by, created_at: i.created_at, expires_at: i.expires_at };
}
