// Clients' phone numbers: given in international form, stored as E.164, shown masked to anyone but owners and
// admins. One rule for the API, the import and (in the dispatch issue) the inbound STOP lookup, so a number typed
// with spaces and the same number from a provider's webhook hash alike.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

export type PhoneProblem = 'not_international' | 'invalid';

// A leading + and then digits, spaces and dashes: the international form the API takes, nothing national.
const INTERNATIONAL = /^\+[0-9][0-9 -]*$/;

/** The E.164 form of an international number, or why it is refused. */
export function normalisePhone(input: string): { e164: string } | { problem: PhoneProblem } {
  const text = input.trim();
  if (!INTERNATIONAL.test(text)) return { problem: 'not_international' };
  const parsed = parsePhoneNumberFromString(text);
  if (!parsed?.isValid()) return { problem: 'invalid' };
  return { e164: parsed.number };
}

export const PHONE_PROBLEM_MESSAGES: Record<PhoneProblem, string> = {
  not_international: 'must be an international number: + and the country code, digits, spaces and dashes',
  invalid: 'is not a valid phone number',
};

/**
 * `+44••••••789`: the country code and the last three digits. The number of hidden digits is always six, so the mask
 * does not tell the number's length either.
 */
export function maskPhone(e164: string): string {
  const parsed = parsePhoneNumberFromString(e164);
  const cc = parsed?.countryCallingCode ?? '';
  return `+${cc}••••••${e164.slice(-3)}`;
}
