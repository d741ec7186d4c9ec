// Twilio's error codes mapped onto the provider error taxonomy (../errors): which ones mean the address itself is
// bad (undeliverable), which an opt-out, which the WhatsApp session window; everything else by HTTP status.
import {
  PermanentProviderError,
  providerErrorFromNetwork,
  providerErrorFromStatus,
  scrub,
  type ProviderError,
  type ProviderErrorCode,
} from '../errors';

/**
 * Codes saying the number itself cannot be reached, from the Messages API (21211 invalid, 21214 unreachable, 21217
 * and 21401 and 21421 not a valid number, 21407 a type without SMS, 21612 no route, 21614 not a mobile number, 63003
 * and 63024 no such WhatsApp address) and from delivery status callbacks (30003 unreachable handset, 30005 unknown
 * handset, 30006 landline or unreachable carrier).
 */
const ADDRESS_ERRORS = new Set([
  21211, 21214, 21217, 21401, 21407, 21421, 21612, 21614, 63003, 63024, 30003, 30005, 30006,
]);

/** Twilio 21610: the recipient replied STOP to this sender; Twilio refuses until they reply START. */
export const TWILIO_OPTED_OUT = 21610;
/** Twilio 63016: a free-form WhatsApp message outside the 24-hour session window; only a template may go. */
export const TWILIO_TEMPLATE_REQUIRED = 63016;

/** Whether a Twilio error code (API or status-callback `ErrorCode`) means the address itself is bad. */
export function isTwilioAddressError(code: unknown): boolean {
  const n = typeof code === 'string' && /^\d+$/.test(code) ? Number(code) : code;
  return typeof n === 'number' && ADDRESS_ERRORS.has(n);
}

/** The stable code for a Twilio error code, when it has one of its own (undefined: decide by HTTP status). */
function codeFor(twilioCode: number | undefined): ProviderErrorCode | undefined {
  if (twilioCode === undefined) return undefined;
  if (twilioCode === TWILIO_TEMPLATE_REQUIRED) return 'template_required';
  if (twilioCode === TWILIO_OPTED_OUT) return 'recipient_opted_out';
  if (isTwilioAddressError(twilioCode)) return 'invalid_recipient';
  return undefined;
}

/** An HTTP answer Twilio gave with a status of 400 or more, caught before the SDK drops its headers. */
export class TwilioHttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, unknown>,
  ) {
    super(`twilio answered ${status}`);
    this.name = 'TwilioHttpFailure';
  }
}

function parseBody(body: unknown): { code?: number; message?: string } {
  let b = body;
  if (typeof b === 'string') {
    try {
      b = JSON.parse(b) as unknown;
    } catch {
      return {};
    }
  }
  if (!b || typeof b !== 'object') return {};
  const o = b as { code?: unknown; message?: unknown; detail?: unknown; title?: unknown };
  const code = typeof o.code === 'number' ? o.code : typeof o.code === 'string' ? Number(o.code) : undefined;
  const message = [o.message, o.detail, o.title].find((m): m is string => typeof m === 'string');
  return { code: Number.isFinite(code) ? code : undefined, message };
}

/**
 * The ProviderError for anything a Twilio send threw: an HTTP answer (ours or the SDK's RestException), a network
 * failure, or the SDK refusing its arguments before any request. `secrets` are kept out of the message.
 */
export function twilioProviderError(err: unknown, secrets: Array<string | undefined>): ProviderError {
  const network = providerErrorFromNetwork('twilio', err);
  if (network) return network;
  let status: number | undefined;
  let headers: Record<string, unknown> | undefined;
  let parsed: { code?: number; message?: string } = {};
  if (err instanceof TwilioHttpFailure) {
    status = err.status;
    headers = err.headers;
    parsed = parseBody(err.body);
  } else if (err && typeof err === 'object' && typeof (err as { status?: unknown }).status === 'number') {
    // The SDK's RestException or TwilioServiceException, should an answer reach it.
    const e = err as { status: number; code?: unknown; message?: unknown };
    status = e.status;
    parsed = parseBody({ code: e.code, message: e.message });
  }
  if (status !== undefined) {
    const code = codeFor(parsed.code);
    return providerErrorFromStatus('twilio', status, {
      retryAfter: headers?.['retry-after'],
      detail: parsed.message,
      secrets,
      providerCode: parsed.code,
      // Twilio's own code decides only for a refusal; a 429 or 5xx stays transient whatever it carries.
      ...(code && status < 500 && status !== 429 ? { code } : {}),
    });
  }
  return new PermanentProviderError(
    `twilio refused the message before sending: ${scrub(err instanceof Error ? err.message : String(err), secrets)}`,
    { provider: 'twilio', code: 'invalid_request' },
  );
}
