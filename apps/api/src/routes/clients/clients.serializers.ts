// The wire shape of a client, applied by the routes to what the clients service returns (numbers already masked for
// callers who may not see them in full).
import type { ClientCounts, ClientRow } from '@nudge/db';

export function serializeClient(c: ClientRow) {
  return {
    id: c.id,
    workspace_id: c.workspace_id,
    name: c.name,
    email: c.email,
    phone: c.phone,
    whatsapp: c.whatsapp,
    preferred_channel: c.preferred_channel,
    timezone: c.timezone,
    locale: c.locale,
    notes: c.notes,
    external_ref: c.external_ref,
    is_active: c.is_active,
    opt_out: { email: c.opt_out_email, sms: c.opt_out_sms, whatsapp: c.opt_out_whatsapp },
    created_at: c.created_at,
    updated_at: c.updated_at,
  };
}
export type ClientOut = ReturnType<typeof serializeClient>;

export function serializeClientDetail(c: ClientRow & { counts: ClientCounts }) {
  return { ...serializeClient(c), counts: c.counts };
}
