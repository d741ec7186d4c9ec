// POST /webhooks/stripe: verify, store, enqueue, answer. The signature is checked before anything is read (a missing
// header is a 400, a wrong, stale or future-dated one a 401, and neither changes anything); the event is stored by
// its id, so a redelivery is a no-op; the billing worker applies it later, never this request. A crash or a Redis
// outage between the insert and the enqueue loses nothing: the billing reconciler enqueues every stored event that
// is still unprocessed.
import type { Config } from '@nudge/config';
import { insertStripeEvent, recordStripeEventEnqueued, type Db } from '@nudge/db';
import { STRIPE_SIGNATURE_HEADER, verifyStripeWebhook } from '@nudge/channels';
import { QUEUES, jobIdFor, type Producers } from '@nudge/queue';
import type { Logger } from '@nudge/logger';
import { BadRequest, Unauthorized } from '../errors/domain-errors';

const malformed = () => new BadRequest('WEBHOOK_MALFORMED', 'The body is not a Stripe event');

/** Stripe's ids: a prefix, an underscore, then letters and digits. */
const EVENT_ID = /^evt_[A-Za-z0-9_]{1,250}$/;

export class StripeWebhookService {
  constructor(private readonly deps: { db: Db; config: Config; logger: Logger; producers: Producers }) {}

  async receive(
    raw: Buffer | undefined,
    signature: string | undefined,
  ): Promise<{ received: true; duplicate: boolean }> {
    if (!signature) throw new BadRequest('WEBHOOK_SIGNATURE_MISSING', `${STRIPE_SIGNATURE_HEADER} is missing`);
    const body = raw ?? Buffer.alloc(0);
    const { webhookSecret, connectWebhookSecret } = this.deps.config.stripe;
    const verdict = verifyStripeWebhook(body, signature, [webhookSecret, connectWebhookSecret]);
    if (!verdict.ok) throw new Unauthorized('The webhook signature is wrong or stale', 'WEBHOOK_SIGNATURE_INVALID');

    let event: unknown;
    try {
      event = JSON.parse(body.toString('utf8'));
    } catch {
      throw malformed();
    }
    if (!event || typeof event !== 'object' || Array.isArray(event)) throw malformed();
    const { id, type, account } = event as Record<string, unknown>;
    if (typeof id !== 'string' || !EVENT_ID.test(id) || typeof type !== 'string' || type.length > 200)
      throw malformed();

    const { inserted, row } = await insertStripeEvent(this.deps.db, {
      id,
      type,
      account: typeof account === 'string' ? account : null,
      payload: event,
    });
    if (!inserted) return { received: true, duplicate: true };
    try {
      await this.deps.producers.add(QUEUES.stripeEvents, { eventId: id }, { jobId: jobIdFor(id, row.enqueue_count) });
      await recordStripeEventEnqueued(this.deps.db, id, row.enqueue_count + 1);
    } catch (err) {
      // Stored is enough to answer 200: the reconciler enqueues it once Redis is back.
      this.deps.logger.warn('stripe event stored but not enqueued; the billing reconciler will', { err, eventId: id });
    }
    return { received: true, duplicate: false };
  }
}
