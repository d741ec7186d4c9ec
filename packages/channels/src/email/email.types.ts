export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Overrides the adapter's default sender. */
  from?: string;
  /** Opaque ids echoed back by the provider's event webhook (SendGrid `custom_args`), e.g. the notification id. */
  customArgs?: Record<string, string>;
}

export type EmailProvider = 'sendgrid' | 'smtp' | 'sandbox';

export interface EmailSendResult {
  provider: EmailProvider;
  messageId: string;
}

/** One way of sending mail. `send` throws TransientProviderError or PermanentProviderError (../errors). */
export interface EmailAdapter {
  readonly provider: EmailProvider;
  send(message: EmailMessage): Promise<EmailSendResult>;
  /** Releases connections, if the adapter keeps any. */
  close(): Promise<void>;
}
