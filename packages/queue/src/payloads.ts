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
export type EmailJob = { kind: 'password-reset'; userId: string } | { kind: 'notification'; notificationId: string };
export interface StripeEventJob {
  eventId: string;
}
export interface CheckoutJob {
  paymentId: string;
}

export interface JobPayloads {
  [QUEUES.birthdayScan]: ScanJob;
  [QUEUES.dispatchSlack]: NotificationJob;
  [QUEUES.reminderScan]: ScanJob;
  [QUEUES.dispatchEmail]: EmailJob;
  [QUEUES.dispatchSms]: NotificationJob;
  [QUEUES.dispatchWhatsapp]: NotificationJob;
  [QUEUES.housekeeping]: Record<string, never>;
  [QUEUES.resetOutbox]: Record<string, never>;
  [QUEUES.billingCheckout]: CheckoutJob;
  [QUEUES.stripeEvents]: StripeEventJob;
  [QUEUES.stripeSweep]: Record<string, never>;
}
