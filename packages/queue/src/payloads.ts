// Job payloads carry ids only: never an address, a phone number, a token or message text. A processor loads what
// it needs from PostgreSQL, so a payload in Redis reveals nothing and can never be stale.
import { QUEUES } from './names';

export interface ScanJob {
  /** Set by a manual run: only this workspace, and post whatever the local time. */
  workspaceId?: string;
  manual?: boolean;
}
export interface NotificationJob {
  notificationId: string;
}
/**
 * A test send through a workspace's own channel account (POST /channel-accounts/{id}/test), on that channel's queue.
 * Email goes to the requesting user's own address (loaded by id: a payload never carries an address); SMS and
 * WhatsApp check the Twilio credentials. The verdict is recorded on the account.
 */
export interface ChannelTestJob {
  kind: 'channel-test';
  accountId: string;
  userId: string;
}
export type EmailJob =
  | { kind: 'password-reset'; userId: string }
  | { kind: 'notification'; notificationId: string }
  /** The workspace owner's "a client paid" mail (workspace setting notify_on_payment): not a notification row. */
  | { kind: 'payment-paid'; paymentId: string }
  | ChannelTestJob;
/** What the SMS and WhatsApp queues carry: a notification to send, or a channel account's test. */
export type MessagingJob = NotificationJob | ChannelTestJob;

export function isChannelTestJob(data: unknown): data is ChannelTestJob {
  return !!data && typeof data === 'object' && (data as { kind?: unknown }).kind === 'channel-test';
}
export interface StripeEventJob {
  eventId: string;
}
/**
 * What billing-checkout carries: create a payment's Checkout Session (then enqueue its notification's dispatch job),
 * or expire it for POST /payments/{id}/cancel. Ids only: the worker reads the rest from PostgreSQL.
 */
export type CheckoutJob = { kind: 'checkout'; paymentId: string } | { kind: 'cancel'; paymentId: string };

export interface JobPayloads {
  [QUEUES.birthdayScan]: ScanJob;
  [QUEUES.dispatchSlack]: NotificationJob;
  [QUEUES.reminderScan]: ScanJob;
  [QUEUES.dispatchEmail]: EmailJob;
  [QUEUES.dispatchSms]: MessagingJob;
  [QUEUES.dispatchWhatsapp]: MessagingJob;
  [QUEUES.housekeeping]: Record<string, never>;
  [QUEUES.resetOutbox]: Record<string, never>;
  [QUEUES.dashboardRollup]: Record<string, never>;
  [QUEUES.billingCheckout]: CheckoutJob;
  [QUEUES.stripeEvents]: StripeEventJob;
  [QUEUES.stripeSweep]: Record<string, never>;
  [QUEUES.billingReconcile]: Record<string, never>;
}
