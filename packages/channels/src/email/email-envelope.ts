// What every email adapter does the same way before handing a message to its transport: the sender as address and
// display name, and the extra headers checked, so SendGrid, SMTP and the sandbox agree on both.
// The file itself: nodemailer has no exports map, and Node's ESM loader (the bundles in dist/) imports no directory.
import addressparser from 'nodemailer/lib/addressparser/index.js';
import { PermanentProviderError, type ProviderName } from '../errors';
import type { EmailMessage } from './email.types';

export interface Sender {
  address: string;
  name?: string;
}

// Control characters (line breaks first) have no place in a display name or a header value.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/g;
const FIELD_NAME = /^[!-9;-~]{1,76}$/;

/** The sender of `message`: its own `from` or the adapter's default, with `fromName` as the display name. */
export function senderOf(message: EmailMessage, defaultFrom: string): Sender {
  const [parsed] = addressparser(message.from ?? defaultFrom, { flatten: true });
  const address = parsed?.address || (message.from ?? defaultFrom);
  const name = (message.fromName ?? parsed?.name ?? '').replace(CONTROL, ' ').trim();
  return name ? { address, name } : { address };
}

/** The message's extra headers, or a permanent `invalid_request` naming the first bad one (never its value). */
export function checkedHeaders(provider: ProviderName, message: EmailMessage): Record<string, string> {
  const headers = message.headers ?? {};
  for (const [name, value] of Object.entries(headers)) {
    if (!FIELD_NAME.test(name) || typeof value !== 'string' || /[\r\n]/.test(value))
      throw new PermanentProviderError(
        `${provider}: header ${FIELD_NAME.test(name) ? name : '(invalid name)'} refused`,
        {
          provider,
          code: 'invalid_request',
        },
      );
  }
  return headers;
}
