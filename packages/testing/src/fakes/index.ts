export * from './http-fake';
export * from './fake-sendgrid';
export * from './fake-twilio';
export * from './fake-stripe';
export * from './fake-slack';
export * from './fake-smtp';
