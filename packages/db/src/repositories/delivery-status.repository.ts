// What providers tell us after a send (status callbacks, event webhooks, inbound STOP): delivery statuses that only
// ever move a notification forward, provider events applied once, and a client's opt-out of one channel with the
// cancelling of what was still queued for it.
import type { Conn } from '../connection';
import type { NotificationChannel, NotificationRow, NotificationStatus } from './notifications.repository';

export type DeliveryOutcome = 'delivered' | 'failed' | 'undeliverable' | 'bounced';

/** The statuses each outcome may follow: never backwards, and a final status is not changed again. */
const MAY_FOLLOW: Record<DeliveryOutcome, readonly NotificationStatus[]> = {
  delivered: ['queued', 'sending', 'sent'],
  failed: ['queued', 'sending', 'sent'],
  undeliverable: ['queued', 'sending', 'sent'],
  // A bounce after a delivered event is SendGrid's later verdict on the same mail.
  bounced: ['queued', 'sending', 'sent', 'delivered'],
};

/**
 * Moves a notification forward to a provider's later verdict, or answers undefined when that would move it back (a
 * duplicate, or a callback out of order).
 */
export async function applyDeliveryOutcome(
  db: Conn,
  id: string,
  outcome: DeliveryOutcome,
  error: string | null = null,
): Promise<NotificationRow | undefined> {
  const [row] = await db<NotificationRow>('notifications')
    .where({ id })
    .whereIn('status', MAY_FOLLOW[outcome])
    .update({
      status: outcome,
      ...(outcome === 'delivered' ? { delivered_at: db.fn.now() } : { last_error: error }),
      updated_at: db.fn.now(),
    })
    .returning('*');
  return row;
}

/** Records a provider event id; false when it was recorded before (the event was applied already). */
export async function recordProviderEvent(db: Conn, provider: string, eventId: string): Promise<boolean> {
  const rows = await db('provider_events')
    .insert({ provider, event_id: eventId })
    .onConflict(['provider', 'event_id'])
    .ignore()
    .returning('event_id');
  return rows.length > 0;
}

/**
 * Sets a client's opt-out of one channel; opting out also cancels the client's notifications still `queued` on it.
 * Answers whether the flag changed and how many notifications were cancelled.
 */
export async function setClientChannelOptOut(
  db: Conn,
  workspaceId: string,
  clientId: string,
  channel: Exclude<NotificationChannel, 'slack'>,
  optOut: boolean,
  reason = 'recipient_opted_out',
): Promise<{ changed: boolean; cancelled: number }> {
  const column = `opt_out_${channel}`;
  const changed = await db('clients')
    .where({ id: clientId, workspace_id: workspaceId })
    .whereNot(column, optOut)
    .update({ [column]: optOut, updated_at: db.fn.now() });
  let cancelled = 0;
  if (optOut)
    cancelled = await db('notifications')
      .where({ workspace_id: workspaceId, client_id: clientId, channel, status: 'queued' })
      .update({ status: 'cancelled', last_error: reason, updated_at: db.fn.now() });
  return { changed: changed > 0, cancelled };
}

/** The accounts of one Twilio account SID, in any workspace: whose auth token signs its webhooks. */
export async function findTwilioAccountsBySid(
  db: Conn,
  accountSid: string,
): Promise<
  { id: string; workspace_id: string; channel: string; sms_from: string | null; whatsapp_from: string | null }[]
> {
  return db('channel_accounts')
    .where({ provider: 'twilio', account_sid: accountSid, is_active: true })
    .select('id', 'workspace_id', 'channel', 'sms_from', 'whatsapp_from');
}
