// What the Twilio SMS and WhatsApp adapters share: everything but how a number is written. Several adapters may
// share one TwilioMessagingClient (one account, two senders); an adapter closes only a client it built itself.
import { TwilioMessagingClient, type TwilioClientOptions } from './twilio-messaging.client';
import type { TextAdapter, TextChannel, TextMessage, TextSendResult } from './text-message.types';

export type TwilioTextAdapterOptions = {
  /** The default sender, E.164 (`+15550001111`), without any `whatsapp:` prefix. */
  from: string;
} & ({ client: TwilioMessagingClient } | TwilioClientOptions);

export abstract class TwilioTextAdapter implements TextAdapter {
  readonly provider = 'twilio' as const;
  abstract readonly channel: TextChannel;
  private readonly client: TwilioMessagingClient;
  private readonly ownsClient: boolean;
  private readonly from: string;

  constructor(options: TwilioTextAdapterOptions) {
    this.from = options.from;
    if ('client' in options) {
      this.client = options.client;
      this.ownsClient = false;
    } else {
      this.client = new TwilioMessagingClient(options);
      this.ownsClient = true;
    }
  }

  /** The number as Twilio expects it on this channel. */
  protected abstract address(number: string): string;

  async send(message: TextMessage): Promise<TextSendResult> {
    const sent = await this.client.send({
      to: this.address(message.to),
      from: this.address(message.from ?? this.from),
      body: message.body,
      statusCallback: message.statusCallback,
    });
    return {
      provider: 'twilio',
      channel: this.channel,
      messageId: sent.sid,
      status: sent.status,
      numSegments: sent.numSegments,
    };
  }

  close(): Promise<void> {
    return this.ownsClient ? this.client.close() : Promise.resolve();
  }
}
