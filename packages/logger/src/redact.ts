// Secrets must never reach a log line, wherever they hide: in a field named for them, inside a URL or query
// string, or inside an error message that quotes a request body.
const SENSITIVE_KEY = /pass(word)?|token|secret|authorization|cookie|api[-_]?key|webhook|phone|whatsapp|credential|signature|^to$|^from$|dsn/i;
const REDACTED = '[REDACTED]';

const SENSITIVE_NAMES = 'password|passwd|current_password|new_password|token|access_token|refresh_token|invite_token|secret|api_key|apikey|authorization|slack_webhook|webhook_url|phone|whatsapp|auth_token';

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
  // E.164 phone numbers, with or without the whatsapp: prefix.
  [/(?<![\w/])\+?[1-9]\d{7,14}(?!\d)/g, REDACTED],
];

export function redactString(s: string): string {
  let out = s;
  for (const [re, rep] of STRING_RULES) out = out.replace(re, rep);
  return out;
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
