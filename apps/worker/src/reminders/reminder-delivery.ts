// The hooks of the dispatch skeleton (../dispatch/channel.processor.ts) for reminder notifications, on any of their
// channels: what is rechecked when the job runs (the reminder paused, cancelled or deleted; the client inactive,
// deleted, opted out or without an address any more), the route resolved (../dispatch/adapter-resolver.ts: the
// workspace's account, the platform's, or the sandbox outside production), and the message rendered from the
// reminder's templates at send time. A payment reminder's message carries its payment's Checkout link
// ({{payment_link}}; the billing worker made it before it enqueued this job), and is cancelled when the client has
// paid for the reminder meanwhile or the payment ended (cancelled, expired, failed). Email goes through an email adapter with
// the notification id in its custom args; SMS and WhatsApp through Twilio, with a status callback that names the
// notification, so a callback that beats the write of the message SID still finds its row. A job reads the
// notification, its reminder, client, number, sender name and channel account in one query (findReminderDispatch);
// the rendered message is kept when the notification is claimed.
import { randomUUID } from 'node:crypto';
import { unsubscribeToken } from '@nudge/crypto';
import {
  findReminderDelivery,
  findReminderDispatches,
  markNotificationsSending,
  insertFallbackNotification,
  markNotificationEnqueued,
  getDb,
  type Db,
  type NotificationClaim,
  type NotificationRow,
  type ReminderDelivery,
  type ReminderDispatch,
} from '@nudge/db';
import {
  canReceive,
  DEFAULT_SUBJECT_TEMPLATE,
  emailBodyFromText,
  fallbackChannel,
  renderReminderTemplate,
  type RecipientChannel,
  type RecipientReach,
} from '@nudge/domain';
import { lastErrorOf } from '@nudge/channels';
import { jobIdFor, type Job, type NotificationJob, type Redis } from '@nudge/queue';
import { dispatchJobsOn, type DispatchJobs } from '../dispatch/dispatch-jobs';
import {
  dispatchNotification,
  type DispatchChannel,
  type DispatchDeps,
  type DispatchOutcome,
  type SendReceipt,
} from '../dispatch/channel.processor';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from '../dispatch/retry-policy';
import type { OutcomeRecorder } from '../dispatch/outcome-batcher';
import { microBatch } from '../dispatch/micro-batch';
import type { WorkerContext } from '../runtime';
import type { AdapterResolver, EmailRoute, TextRoute } from '../dispatch/adapter-resolver';
import { redisTargetPacer, type TargetPacer } from '../dispatch/target-pacer';

export interface ReminderMessage {
  channel: RecipientChannel;
  /** The email address or the E.164 number; null for the sandbox, which needs none. */
  to: string | null;
  subject: string | null;
  text: string;
  route: EmailRoute | TextRoute;
  /** Email only: the From display name (the account's, else the workspace's sender_name). */
  fromName?: string;
  /** Email only: List-Unsubscribe and List-Unsubscribe-Post (RFC 8058 one-click). */
  headers?: Record<string, string>;
}

/** The one-click unsubscribe headers of a reminder mail to this client (RFC 8058). */
export function unsubscribeHeaders(publicBaseUrl: string, clientId: string): Record<string, string> {
  const url = `${publicBaseUrl.replace(/\/+$/, '')}/unsubscribe/${unsubscribeToken(clientId)}`;
  return { 'List-Unsubscribe': `<${url}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' };
}

/** Sends to one client on one channel go out at most one a second (two reminders due at the same minute, say). */
export function reminderPacer(redis: Redis, channel: RecipientChannel): TargetPacer {
  return redisTargetPacer(redis, { namespace: `${channel}-pace`, intervalMs: 1000 });
}

/** Where Twilio reports a message's status: at the root, naming the notification (`?n=`). */
export function twilioStatusCallbackUrl(publicBaseUrl: string, notificationId: string): string {
  return `${publicBaseUrl.replace(/\/+$/, '')}/webhooks/twilio/status?n=${encodeURIComponent(notificationId)}`;
}

/** Sends a prepared message on its route; a failure is a ProviderError of @nudge/channels. */
export async function sendOnRoute(
  message: ReminderMessage,
  n: NotificationRow,
  publicBaseUrl: string,
): Promise<SendReceipt> {
  const { route } = message;
  if (route.kind === 'email') {
    // The template is plain text: the HTML part escapes it, so nothing a template holds becomes markup.
    const body = emailBodyFromText(message.text);
    const sent = await route.adapter.send({
      to: message.to as string,
      subject: message.subject ?? '',
      text: body.text,
      html: body.html,
      ...(message.fromName ? { fromName: message.fromName } : {}),
      ...(message.headers ? { headers: message.headers } : {}),
      customArgs: { notification_id: n.id },
    });
    return { provider: sent.provider, providerMessageId: sent.messageId };
  }
  if (route.kind === 'text') {
    const sent = await route.adapter.send({
      to: message.to as string,
      body: message.text,
      from: route.from,
      statusCallback: twilioStatusCallbackUrl(publicBaseUrl, n.id),
    });
    return { provider: sent.provider, providerMessageId: sent.messageId };
  }
  // Nothing leaves the machine: the notification is recorded as sent by the sandbox.
  return { provider: 'sandbox', providerMessageId: `sandbox-${randomUUID()}` };
}

/**
 * The Checkout link a payment reminder's message carries, or why it should not go out: the client has paid for the
 * reminder (no further payment reminders), or this occurrence's payment ended. A payment still waiting for its link
 * is retried (its checkout job, or the reconciler, makes it). A notification with no payment row (the reminder
 * became a payment reminder after it was queued) goes out without a link.
 */
function paymentLinkOf({
  payment,
  clientPaid,
}: ReminderNotification['dispatch']): { url: string | null } | { cancel: string } {
  if (clientPaid) return { cancel: 'client_paid' };
  if (!payment) return { url: null };
  if (payment.status !== 'open') return { cancel: `payment_${payment.status}` };
  if (!payment.checkout_url) throw new Error('the payment link is not made yet');
  return { url: payment.checkout_url };
}

function reachOf(client: NonNullable<ReminderDelivery['client']>): RecipientReach {
  return {
    hasEmail: client.email !== null,
    hasPhone: client.has_phone,
    hasWhatsapp: client.has_whatsapp,
    optOut: { email: client.opt_out_email, sms: client.opt_out_sms, whatsapp: client.opt_out_whatsapp },
    preferredChannel: client.preferred_channel,
  };
}

/** A reminder notification as its dispatch job reads it: with its recipient, route and sender, in one query. */
export type ReminderNotification = NotificationRow & { dispatch: Omit<ReminderDispatch, 'notification'> };

export function reminderChannel(
  channel: RecipientChannel,
  deps: { db: Db; resolver: AdapterResolver; publicBaseUrl: string; jobs: DispatchJobs },
): DispatchChannel<ReminderMessage, ReminderNotification> {
  const { db } = deps;
  // Jobs running together read their notifications in one query.
  const read = microBatch(async (ids: string[]) => {
    const found = await findReminderDispatches(db, ids);
    return ids.map((id) => found.get(id));
  });
  return {
    name: `reminder ${channel}`,
    async load(id) {
      const found = await read(id);
      return found && { ...found.notification, dispatch: found };
    },
    async prepare(n) {
      const { reminder, client, number, account, senderName } = n.dispatch;
      if (!reminder) return { cancel: 'reminder_deleted' };
      if (reminder.status === 'paused') return { cancel: 'reminder_paused' };
      if (reminder.status === 'cancelled') return { cancel: 'reminder_cancelled' };
      if (!client) return { cancel: 'client_deleted' };
      if (!client.is_active) return { cancel: 'client_inactive' };
      let paymentLink: string | null = null;
      if (reminder.type === 'payment') {
        const link = paymentLinkOf(n.dispatch);
        if ('cancel' in link) return link;
        paymentLink = link.url;
      }
      const reach = reachOf(client);
      if (!canReceive(channel, reach)) return { fail: reach.optOut[channel] ? 'recipient_opted_out' : 'no_address' };
      const route =
        channel === 'email'
          ? await deps.resolver.email(n.workspace_id, account)
          : await deps.resolver.text(n.workspace_id, channel, account);
      if ('notConfigured' in route) return { fail: route.notConfigured };
      let to = channel === 'email' ? client.email : null;
      if (route.kind === 'text') {
        // The sandbox needs no number; a real send does.
        to = number;
        if (!to) return { fail: 'no_address' };
      }
      const values = {
        clientName: client.name,
        title: reminder.title,
        dueDate: reminder.due_date,
        amountMinor: reminder.amount === null ? null : Number(reminder.amount),
        currency: reminder.currency,
        locale: client.locale,
        paymentLink,
        documentLink: reminder.document_url,
      };
      const text = renderReminderTemplate(reminder.message_template, values);
      const subject =
        channel === 'email'
          ? renderReminderTemplate(reminder.subject_template ?? DEFAULT_SUBJECT_TEMPLATE, values)
          : null;
      return {
        message: {
          channel,
          to,
          subject,
          text,
          route,
          ...(route.kind === 'email'
            ? {
                fromName: route.fromName ?? senderName ?? undefined,
                headers: unsubscribeHeaders(deps.publicBaseUrl, client.id),
              }
            : {}),
        },
        target: `${channel}:${client.id}`,
        account: `${channel}:${route.account}:${route.kind === 'text' ? route.from : ''}`,
        content: { subject, body: text },
      };
    },
    send: (message, n) => sendOnRoute(message, n, deps.publicBaseUrl),
    lastError: lastErrorOf,
    async afterFailure(n) {
      // One fallback, on the next channel the reminder lists that the client can still receive, sent once.
      const { reminder, client } = await findReminderDelivery(db, n);
      if (!reminder || !client?.is_active || reminder.status === 'paused' || reminder.status === 'cancelled') return;
      const next = fallbackChannel(reminder.channels, n.channel as RecipientChannel, reachOf(client));
      if (!next) return;
      const fallback = await insertFallbackNotification(db, n, next);
      if (!fallback) return;
      // Lost here (Redis down, a crash), it stays queued and the reconciler enqueues it.
      await deps.jobs(next).add(fallback.id, jobIdFor(fallback.id, 0));
      await markNotificationEnqueued(db, n.workspace_id, fallback.id, 1);
    },
  };
}

export interface ReminderDispatchDeps {
  /** Resolves each notification's route. */
  resolver: AdapterResolver;
  db?: Db;
  pacer?: TargetPacer;
  retry?: RetryPolicy;
  /** Where tries are recorded (the process's batcher); each on its own when not given. */
  outcomes?: OutcomeRecorder;
}

/**
 * A processor of one channel's reminder notifications. The channel's hooks and pacer are built on the first job (they
 * need the worker's context) and reused by every later one.
 */
export function reminderDispatcher(channel: RecipientChannel, deps: ReminderDispatchDeps) {
  let built: { hooks: DispatchChannel<ReminderMessage, ReminderNotification>; dispatch: DispatchDeps } | undefined;
  return (job: Job<NotificationJob>, ctx: WorkerContext): Promise<DispatchOutcome> => {
    if (!built) {
      const db = deps.db ?? getDb();
      built = {
        hooks: reminderChannel(channel, {
          db,
          resolver: deps.resolver,
          publicBaseUrl: ctx.config.publicBaseUrl,
          jobs: dispatchJobsOn(ctx.producers),
        }),
        dispatch: {
          db,
          pacer: deps.pacer ?? reminderPacer(ctx.producers.connection, channel),
          retry: deps.retry ?? DEFAULT_RETRY_POLICY,
          logger: ctx.logger,
          ...(deps.outcomes ? { outcomes: deps.outcomes } : {}),
          // Jobs claiming together claim in one statement; a notification named twice goes to the first.
          claim: microBatch(async (claims: NotificationClaim[]) => {
            const claimed = await markNotificationsSending(db, claims);
            const given = new Set<string>();
            return claims.map((c) => {
              if (!claimed.has(c.id) || given.has(c.id)) return false;
              given.add(c.id);
              return true;
            });
          }),
        },
      };
    }
    return dispatchNotification(job, built.hooks, built.dispatch);
  };
}
