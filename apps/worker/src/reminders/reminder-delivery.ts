// The hooks of the dispatch skeleton (../dispatch/channel.processor.ts) for reminder notifications, on any of their
// channels: what is rechecked when the job runs (the reminder paused, cancelled or deleted; the client inactive,
// deleted, opted out or without an address any more), and the message rendered from the reminder's templates at send
// time (a payment link will exist only then). Only the send itself differs by channel: email goes through the
// platform email adapter, SMS and WhatsApp to the sandbox until the dispatch issue brings Twilio.
import { randomUUID } from 'node:crypto';
import { findReminderDelivery, setNotificationContent, type Db, type NotificationRow } from '@nudge/db';
import { canReceive, DEFAULT_SUBJECT_TEMPLATE, renderReminderTemplate, type RecipientChannel } from '@nudge/domain';
import type { EmailAdapter } from '@nudge/channels';
import type { Redis } from '@nudge/queue';
import type { DispatchChannel, SendReceipt } from '../dispatch/channel.processor';
import { redisTargetPacer, type TargetPacer } from '../dispatch/target-pacer';

export interface ReminderMessage {
  channel: RecipientChannel;
  /** The email address; for SMS and WhatsApp the sandbox needs none (the number stays encrypted). */
  to: string | null;
  subject: string | null;
  text: string;
}

/** Sends to one client on one channel go out at most one a second (two reminders due at the same minute, say). */
export function reminderPacer(redis: Redis, channel: RecipientChannel): TargetPacer {
  return redisTargetPacer(redis, { namespace: `${channel}-pace`, intervalMs: 1000 });
}

export interface ReminderSender {
  /** The provider name the receipt records. */
  send(message: ReminderMessage, n: NotificationRow): Promise<SendReceipt>;
}

/** Email through the platform adapter: SendGrid, SMTP, or the sandbox outbox. */
export function emailSender(adapter: EmailAdapter): ReminderSender {
  return {
    async send(message, n) {
      const sent = await adapter.send({
        to: message.to as string,
        subject: message.subject ?? '',
        text: message.text,
        customArgs: { notification_id: n.id },
      });
      return { provider: sent.provider, providerMessageId: sent.messageId };
    },
  };
}

/** SMS and WhatsApp until the dispatch issue: nothing leaves the machine, and the notification is sent by sandbox. */
export const sandboxSender: ReminderSender = {
  send() {
    return Promise.resolve({ provider: 'sandbox', providerMessageId: `sandbox-${randomUUID()}` });
  },
};

export function reminderChannel(
  channel: RecipientChannel,
  deps: { db: Db; sender: ReminderSender },
): DispatchChannel<ReminderMessage> {
  const { db } = deps;
  return {
    name: `reminder ${channel}`,
    async prepare(n) {
      const { reminder, client } = await findReminderDelivery(db, n);
      if (!reminder) return { cancel: 'reminder_deleted' };
      if (reminder.status === 'paused') return { cancel: 'reminder_paused' };
      if (reminder.status === 'cancelled') return { cancel: 'reminder_cancelled' };
      if (!client) return { cancel: 'client_deleted' };
      if (!client.is_active) return { cancel: 'client_inactive' };
      const reach = {
        hasEmail: client.email !== null,
        hasPhone: client.has_phone,
        hasWhatsapp: client.has_whatsapp,
        optOut: { email: client.opt_out_email, sms: client.opt_out_sms, whatsapp: client.opt_out_whatsapp },
        preferredChannel: null,
      };
      if (!canReceive(channel, reach)) return { fail: reach.optOut[channel] ? 'recipient_opted_out' : 'no_address' };
      const values = {
        clientName: client.name,
        title: reminder.title,
        dueDate: reminder.due_date,
        amountMinor: reminder.amount === null ? null : Number(reminder.amount),
        currency: reminder.currency,
        locale: client.locale,
        paymentLink: null,
        documentLink: reminder.document_url,
      };
      const text = renderReminderTemplate(reminder.message_template, values);
      const subject =
        channel === 'email'
          ? renderReminderTemplate(reminder.subject_template ?? DEFAULT_SUBJECT_TEMPLATE, values)
          : null;
      await setNotificationContent(db, n.workspace_id, n.id, { subject, body: text });
      return {
        message: { channel, to: channel === 'email' ? client.email : null, subject, text },
        target: `${channel}:${client.id}`,
      };
    },
    send: (message, n) => deps.sender.send(message, n),
  };
}
