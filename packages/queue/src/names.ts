// Queue names, one per kind of work. The process that consumes each is named beside it.
export const QUEUES = {
  /** birthdays: the scheduler tick that claims today's posts. */
  birthdayScan: 'birthday-scan',
  /** birthdays: one Slack post per workspace and local day. */
  dispatchSlack: 'dispatch-slack',
  /** reminders: the tick that claims due reminders. */
  reminderScan: 'reminder-scan',
  /** reminders: email, including password-reset mail. */
  dispatchEmail: 'dispatch-email',
  dispatchSms: 'dispatch-sms',
  dispatchWhatsapp: 'dispatch-whatsapp',
  /** reminders: the daily prune of expired tokens and invites. */
  housekeeping: 'housekeeping',
  /** reminders: the tick that queues the reset mails the API kept in PostgreSQL while Redis was down. */
  resetOutbox: 'password-reset-outbox',
  /** reminders: the tick that rolls reminder notifications up per day for the dashboard. */
  dashboardRollup: 'dashboard-rollup',
  /** billing: Stripe Checkout sessions, Stripe events, the nightly sweep. */
  billingCheckout: 'billing-checkout',
  stripeEvents: 'stripe-events',
  stripeSweep: 'stripe-sweep',
  /** billing: the tick that enqueues stored Stripe events and paid mails whose job was lost. */
  billingReconcile: 'billing-reconcile',
} as const;

export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** Which Procfile process consumes which queues. */
export const PROCESS_QUEUES = {
  birthdays: [QUEUES.birthdayScan, QUEUES.dispatchSlack],
  reminders: [
    QUEUES.reminderScan,
    QUEUES.dispatchEmail,
    QUEUES.dispatchSms,
    QUEUES.dispatchWhatsapp,
    QUEUES.housekeeping,
    QUEUES.resetOutbox,
    QUEUES.dashboardRollup,
  ],
  billing: [QUEUES.billingCheckout, QUEUES.stripeEvents, QUEUES.stripeSweep, QUEUES.billingReconcile],
} as const satisfies Record<string, readonly QueueName[]>;

export type ProcessName = keyof typeof PROCESS_QUEUES;
