// Secrets must never reach a log line, wherever they hide: in a field named for them, inside a URL or query
// string, or inside an error message that quotes a request body.
const SENSITIVE_KEY =
  /pass(word)?|token|secret|authorization|cookie|api[-_]?key|webhook|phone|whatsapp|credential|signature|^to$|^from$|dsn/i;
const REDACTED = '[REDACTED]';

const SENSITIVE_NAMES =
  'password|passwd|current_password|new_password|token|access_token|refresh_token|invite_token|secret|api_key|apikey|authorization|slack_webhook|webhook_url|phone|whatsapp|auth_token';

const STRING_RULES: [RegExp, string][] = [
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi, `$1 ${REDACTED}`],
  [/\beyJ[\w-]+\.[\w-]+\.[\w-]*/g, REDACTED],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>]*\/services\/[^\s"'<>]*/gi, REDACTED],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@"']+:[^\s@/"']+@/gi, `${REDACTED}@`],
  [/\bSG\.[\w-]+\.[\w-]+/g, REDACTED],
  [/\b[rs]k_(test|live)_[\w]+/g, REDACTED],
  [/\bwhsec_[\w+/=]+/g, REDACTED],
  // "key": "value", key=value and key: value, for keys that name a secret (JSON snippets, query strings, forms).
  [new RegExp(`((?:${SENSITIVE_NAMES})\\\\?"?\\s*[:=]\\s*\\\\?"?)([^"&\\s,}\\\\]+)`, 'gi'), `$1${REDACTED}`],
  // bcrypt hashes ($2a$, $2b$, $2y$): knex and pg quote bound values, password hashes among them, in their errors.
  [/\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}/g, REDACTED],
  // E.164 phone numbers, with or without the whatsapp: prefix. Digits that are part of a longer token (the last
  // group of a UUID or request id, a Stripe or Twilio id) are not a phone number: redacting them breaks correlation.
  [/(?<![\w/-])\+?[1-9]\d{7,14}(?![\w-])/g, REDACTED],
];

/** Card-like numbers: 13 to 19 digits, optionally grouped by spaces or dashes, that pass the Luhn check. */
const CARD_LIKE = /(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])/g;

function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

export function redactString(s: string): string {
  let out = s;
  for (const [re, rep] of STRING_RULES) out = out.replace(re, rep);
  return out.replace(CARD_LIKE, (m) => (passesLuhn(m.replace(/\D/g, '')) ? REDACTED : m));
}

/** Returns a deep copy with every sensitive value replaced; leaves symbols (winston's own keys) untouched. */
export function redact<T>(value: T, depth = 0): T {
  if (depth > 8) return value;
  if (typeof value === 'string') return redactString(value) as T;
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v: unknown) => redact(v, depth + 1)) as T;
  if (value instanceof Error) {
    const e = value as Error & Record<string, unknown>;
    return { name: e.name, message: redactString(e.message), stack: e.stack ? redactString(e.stack) : undefined } as T;
  }
  if (Buffer.isBuffer(value) || value instanceof Date) return value;
  const out: Record<string | symbol, unknown> = {};
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    out[key] = SENSITIVE_KEY.test(key) && v !== null && v !== undefined && v !== '' ? REDACTED : redact(v, depth + 1);
  }
  for (const sym of Object.getOwnPropertySymbols(value)) out[sym] = (value as Record<symbol, unknown>)[sym];
  return out as T;
}
