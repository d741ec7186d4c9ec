export * from './errors';
export * from './email/email.types';
export * from './email/sendgrid-email.adapter';
export * from './email/smtp-email.adapter';
export * from './email/sandbox-email.adapter';
export * from './email/platform-email';
export * from './slack/slack-webhook.adapter';
