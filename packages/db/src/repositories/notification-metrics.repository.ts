// Platform-wide notification figures for operators (/metrics): counts only, no tenant's rows, hence no scope.
import type { Conn } from '../connection';
import { NOTIFICATION_STATUSES, type NotificationChannel, type NotificationStatus } from './notifications.repository';

export const NOTIFICATION_CHANNELS: readonly NotificationChannel[] = ['slack', 'email', 'sms', 'whatsapp'];

export interface StatusChannelCount {
  status: NotificationStatus;
  channel: NotificationChannel;
  count: number;
}

/** Every (status, channel) pair with its number of notifications across all workspaces, zeros included. */
export async function countNotificationsByStatusAndChannel(db: Conn): Promise<StatusChannelCount[]> {
  const rows: { status: NotificationStatus; channel: NotificationChannel; count: string }[] = await db('notifications')
    .groupBy('status', 'channel')
    .select('status', 'channel', db.raw('count(*)::bigint AS count'));
  const found = new Map(rows.map((r) => [`${r.status}:${r.channel}`, Number(r.count)]));
  return NOTIFICATION_STATUSES.flatMap((status) =>
    NOTIFICATION_CHANNELS.map((channel) => ({ status, channel, count: found.get(`${status}:${channel}`) ?? 0 })),
  );
}
