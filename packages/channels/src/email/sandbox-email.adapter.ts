// Email that never leaves the machine: each message becomes an RFC 822 file in <rootDir>/.nudge/outbox/<id>.eml,
// which any mail client opens. For development and tests without credentials; refused in production.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import { ChannelNotConfiguredError } from '../errors';
import { checkedHeaders, senderOf } from './email-envelope';
import type { EmailAdapter, EmailMessage, EmailSendResult } from './email.types';

export interface SandboxEmailAdapterOptions {
  rootDir: string;
  /** Default sender when a message names none. */
  from: string;
  isProduction: boolean;
}

export class SandboxEmailAdapter implements EmailAdapter {
  readonly provider = 'sandbox' as const;
  readonly outboxDir: string;
  private readonly from: string;
  // Builds the message exactly as an SMTP transport would, into a buffer instead of a socket.
  private readonly composer: Transporter;

  constructor(options: SandboxEmailAdapterOptions) {
    if (options.isProduction)
      throw new ChannelNotConfiguredError('the sandbox email driver is not allowed in production');
    this.outboxDir = path.join(options.rootDir, '.nudge', 'outbox');
    this.from = options.from;
    this.composer = nodemailer.createTransport({ streamTransport: true, buffer: true });
  }

  /** Where the message with this id was written. */
  pathOf(messageId: string): string {
    return path.join(this.outboxDir, `${messageId}.eml`);
  }

  async send(message: EmailMessage): Promise<EmailSendResult> {
    const id = randomUUID();
    const headers = checkedHeaders('sandbox', message);
    const sender = senderOf(message, this.from);
    const info = (await this.composer.sendMail({
      to: message.to,
      from: sender.name ? { name: sender.name, address: sender.address } : sender.address,
      subject: message.subject,
      text: message.text,
      ...(message.html ? { html: message.html } : {}),
      messageId: `<${id}@sandbox.nudge.local>`,
      headers: {
        ...headers,
        ...Object.fromEntries(
          Object.entries(message.customArgs ?? {}).map(([k, v]) => [
            `X-Nudge-Arg-${k.replace(/[^A-Za-z0-9_-]/g, '-')}`,
            v,
          ]),
        ),
      },
    })) as { message: Buffer };
    await fs.mkdir(this.outboxDir, { recursive: true, mode: 0o700 });
    // The outbox holds real addresses and text: readable by the owner only.
    await fs.writeFile(this.pathOf(id), info.message, { flag: 'wx', mode: 0o600 });
    return { provider: 'sandbox', messageId: id };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
