// Clients' phone numbers: given in international form, stored as E.164, shown masked to anyone but owners and
// admins. One rule for the API, the import and (in the dispatch issue) the inbound STOP lookup, so a number typed
// with spaces and the same number from a provider's webhook hash alike.
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';

export type PhoneProblem = 'not_international' | 'invalid';

// A leading + and then digits, spaces and dashes: the international form the API takes, nothing national.
const INTERNATIONAL = /^\+[0-9][0-9 -]*$/;

/** The E.164 form of an international number, or why it is refused. */
// Parsing costs about 25 µs a number, and an import often carries one number twice (phone and WhatsApp) or the same
// office number on many rows: answers are remembered, within a bound, since the function is pure.
const MEMO_LIMIT = 10_000;
const memo = new Map<string, { e164: string } | { problem: PhoneProblem }>();

export function normalisePhone(input: string): { e164: string } | { problem: PhoneProblem } {
  const known = memo.get(input);
  if (known) return known;
  const answer = parsePhone(input);
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(input, answer);
  return answer;
}

function parsePhone(input: string): { e164: string } | { problem: PhoneProblem } {
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
