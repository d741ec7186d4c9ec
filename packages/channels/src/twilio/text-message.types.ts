// What the SMS and WhatsApp adapters share with their callers: one message shape, one result, one interface, so a
// dispatcher handles both channels (and any later text channel) the same way.

export type TextChannel = 'sms' | 'whatsapp';

export interface TextMessage {
  /** The recipient in E.164 (`+15551234567`); the WhatsApp adapter adds the `whatsapp:` prefix itself. */
  to: string;
  body: string;
  /** Overrides the adapter's default sender (a workspace's own number), E.164 like `to`. */
  from?: string;
  /** Where Twilio posts this message's status changes, e.g. `${PUBLIC_BASE_URL}/webhooks/twilio/status?n=<id>`. */
  statusCallback?: string;
}

export interface TextSendResult {
  provider: 'twilio';
  channel: TextChannel;
  /** Twilio's message SID (`SM…`), the id its status callbacks carry. */
  messageId: string;
  /** Twilio's status at acceptance, usually `queued` (or `accepted` with a messaging service). */
  status: string;
  /** How many segments Twilio will bill (`num_segments`); 1 when it did not say. */
  numSegments: number;
}

/** One way of sending texts. `send` throws TransientProviderError or PermanentProviderError (../errors). */
export interface TextAdapter {
  readonly provider: 'twilio';
  readonly channel: TextChannel;
  send(message: TextMessage): Promise<TextSendResult>;
  /** Releases connections the adapter owns. */
  close(): Promise<void>;
}
