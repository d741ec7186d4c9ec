// A client's fields as the API takes them: one set of rules for create, update and every import row.
import Joi from 'joi';
import type { ClientFields } from '@nudge/db';
import { email, locale, name, phone, timezone } from '../http/schemas';

export const CLIENT_CHANNELS = ['email', 'sms', 'whatsapp'] as const;
const channel = () => Joi.string().valid(...CLIENT_CHANNELS);

/** Every field a client has, none required: the create schema adds what it needs, the update takes any. */
export const clientFields = {
  name: name(),
  email: email().allow(null),
  phone: phone().allow(null),
  whatsapp: phone().allow(null),
  preferred_channel: channel().allow(null),
  timezone: timezone(),
  locale: locale().allow(null),
  notes: Joi.string().max(10_000).allow(null, ''),
  external_ref: Joi.string().trim().min(1).max(200).allow(null),
  is_active: Joi.boolean(),
  opt_out: Joi.object({ email: Joi.boolean(), sms: Joi.boolean(), whatsapp: Joi.boolean() }),
};

/** A client's fields as the API takes them (numbers already E.164: the request schema normalised them). */
export interface ClientInput {
  name?: string;
  email?: string | null;
  phone?: string | null;
  whatsapp?: string | null;
  preferred_channel?: ClientFields['preferred_channel'];
  timezone?: string;
  locale?: string | null;
  notes?: string | null;
  external_ref?: string | null;
  is_active?: boolean;
  opt_out?: { email?: boolean; sms?: boolean; whatsapp?: boolean };
  workspace_id?: string;
}

/** The columns a client's input sets: `opt_out` becomes the three opt_out_* columns. */
export function toFields(input: Omit<ClientInput, 'workspace_id'>): Partial<ClientFields> {
  const { opt_out, ...rest } = input;
  const out: Partial<ClientFields> = { ...rest };
  if (opt_out?.email !== undefined) out.opt_out_email = opt_out.email;
  if (opt_out?.sms !== undefined) out.opt_out_sms = opt_out.sms;
  if (opt_out?.whatsapp !== undefined) out.opt_out_whatsapp = opt_out.whatsapp;
  return out;
}
