// Which channel a reminder reaches a client on: the first of the reminder's channels, in its order, that the client
// can receive (an address for it, and not opted out of it); `auto` stands for the client's preferred channel. The
// scan and send-now both decide through this one rule, and a failed send falls back to a later channel through
// fallbackChannel.
export type RecipientChannel = 'email' | 'sms' | 'whatsapp';
export const RECIPIENT_CHANNELS: readonly RecipientChannel[] = ['email', 'sms', 'whatsapp'];

export interface RecipientReach {
  hasEmail: boolean;
  hasPhone: boolean;
  hasWhatsapp: boolean;
  optOut: { email: boolean; sms: boolean; whatsapp: boolean };
  preferredChannel: RecipientChannel | null;
}

function resolve(channel: string, r: RecipientReach): RecipientChannel | null {
  if (channel === 'auto') return r.preferredChannel;
  return (RECIPIENT_CHANNELS as readonly string[]).includes(channel) ? (channel as RecipientChannel) : null;
}

/** Whether the client has an address on the channel and has not opted out of it. */
export function canReceive(channel: RecipientChannel, r: RecipientReach): boolean {
  const has = channel === 'email' ? r.hasEmail : channel === 'sms' ? r.hasPhone : r.hasWhatsapp;
  return has && !r.optOut[channel];
}

/** The first channel of the list the client can receive, or null when there is none. */
export function firstReceivableChannel(channels: readonly string[], r: RecipientReach): RecipientChannel | null {
  for (const c of channels) {
    const resolved = resolve(c, r);
    if (resolved && canReceive(resolved, r)) return resolved;
  }
  return null;
}

/**
 * The channel a notification that cannot be sent is recorded on: the reminder's first choice as it resolves for
 * this client (an `auto` without a preferred channel counts as email).
 */
export function intendedChannel(channels: readonly string[], r: RecipientReach): RecipientChannel {
  for (const c of channels) {
    const resolved = resolve(c, r);
    if (resolved) return resolved;
  }
  return 'email';
}

/**
 * The channel a send that failed on `failed` falls back to: the first channel listed after the last place `failed`
 * holds in the list that the client can receive, or null. Each fallback moves strictly further down the list, so a
 * chain of them ends.
 */
export function fallbackChannel(
  channels: readonly string[],
  failed: RecipientChannel,
  r: RecipientReach,
): RecipientChannel | null {
  const resolved = channels.map((c) => resolve(c, r));
  const at = resolved.lastIndexOf(failed);
  if (at < 0) return null;
  for (const c of resolved.slice(at + 1)) if (c && c !== failed && canReceive(c, r)) return c;
  return null;
}
