// Test support: a client row's fields for `insertClient`, shared by the repository tests and the API tests.
import type { ClientFields } from '@nudge/db';

/** A client's every field, reachable on no channel unless `over` gives an address. */
export function clientFields(over: Partial<ClientFields> = {}): ClientFields {
  return {
    name: 'Pat',
    email: null,
    phone: null,
    whatsapp: null,
    preferred_channel: null,
    timezone: 'UTC',
    locale: null,
    notes: null,
    external_ref: null,
    is_active: true,
    opt_out_email: false,
    opt_out_sms: false,
    opt_out_whatsapp: false,
    ...over,
  };
}
