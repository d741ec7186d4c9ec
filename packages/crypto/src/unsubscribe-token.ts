// The token of a reminder mail's one-click unsubscribe link (RFC 8058): it names the client and is signed, so only
// a link Nudge wrote opts anyone out. It never expires (an old mail's link must keep working) and carries nothing
// secret. The key is derived from JWT_SECRET for this purpose alone, so a token of one kind is never valid as another.
import crypto from 'node:crypto';
import { getConfig } from '@nudge/config';

const PURPOSE = 'nudge-unsubscribe-v1';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function macOf(clientId: string, secret: string): string {
  const key = crypto.createHmac('sha256', secret).update(PURPOSE).digest();
  return crypto.createHmac('sha256', key).update(clientId.toLowerCase()).digest('base64url');
}

/** `<client id>.<mac>`: the path segment of /unsubscribe/{token}. */
export function unsubscribeToken(clientId: string, secret: string = getConfig().jwtSecret): string {
  return `${clientId.toLowerCase()}.${macOf(clientId, secret)}`;
}

/** The client a token names, or undefined when it is not one Nudge signed. */
export function verifyUnsubscribeToken(token: string, secret: string = getConfig().jwtSecret): string | undefined {
  const [clientId, mac, ...rest] = token.split('.');
  if (rest.length || !clientId || !mac || !UUID.test(clientId)) return undefined;
  const expected = Buffer.from(macOf(clientId, secret));
  const given = Buffer.from(mac);
  return given.length === expected.length && crypto.timingSafeEqual(given, expected)
    ? clientId.toLowerCase()
    : undefined;
}
