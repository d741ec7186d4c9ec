// The rules the API and the workers share, as pure functions and types. Nothing here does I/O: no database,
// Redis, queue, HTTP server or provider SDK, so both sides (and the tests) can call a rule without a connection.
export * from './birthdays/birthday-calendar';
export * from './birthdays/birthday-message';
export * from './post-time';
export * from './messaging/email-body';
export * from './messaging/opt-out-keyword';
export * from './clients/phone-number';
export * from './reminders/recurrence-rule';
export * from './reminders/reminder-template';
export * from './reminders/schedule';
export * from './reminders/sms-segments';
export * from './reminders/recipient-channel';
export * from './payments/payment-status';
export * from './payments/paid-notice';
