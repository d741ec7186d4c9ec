// What every email adapter takes and answers, so a dispatcher treats SendGrid, SMTP and the sandbox alike.
export interface EmailMessage {
  to: string;
  subject: string;
  text: string;
  html?: string;
  /** Overrides the adapter's default sender (`addr@host` or `Name <addr@host>`). */
  from?: string;
  /** The From display name (a workspace's `sender_name`), over any name the sender carries. */
  fromName?: string;
  /**
   * Extra headers, e.g. `List-Unsubscribe` and `List-Unsubscribe-Post` (RFC 8058). Names are RFC 5322 field names;
   * a value with a line break is refused (header injection) as a permanent `invalid_request`.
   */
  headers?: Record<string, string>;
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
