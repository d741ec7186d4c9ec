// Provider webhooks: public routes, each verifying its provider's signature before anything else (the service does
// it first). Twilio posts forms and is answered TwiML where it reads an answer; SendGrid posts signed JSON batches,
// kept raw because the signature covers the exact bytes.
import Joi from 'joi';
import type { Request } from 'express';
import type { RouteSpec, RouteResponse } from '../../http/route';
import type { Services } from '../../services';
import { twiml, type FormParams } from '../../services/provider-webhooks.service';

const signatureErrors: Record<number, RouteResponse> = {
  400: {
    description: 'No signature header (WEBHOOK_SIGNATURE_MISSING), or a body that cannot be read (WEBHOOK_MALFORMED)',
  },
  401: { description: 'A wrong or stale signature (WEBHOOK_SIGNATURE_INVALID): nothing is changed' },
};

const form = (req: Request): FormParams =>
  req.body && typeof req.body === 'object' && !Buffer.isBuffer(req.body) ? (req.body as FormParams) : {};

const header = (req: Request, name: string): string | undefined => {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
};

export function webhooksRoutes({ providerWebhooks, stripeWebhook }: Services): RouteSpec[] {
  return [
    {
      method: 'post',
      path: '/webhooks/stripe',
      summary: "Stripe's events: Checkout Sessions completed, paid late, failed or expired; refunds; Connect accounts",
      description:
        'Verified with Stripe-Signature (HMAC-SHA256 over the timestamp and the raw body) under STRIPE_WEBHOOK_SECRET, ' +
        'or STRIPE_CONNECT_WEBHOOK_SECRET when set; a timestamp more than 5 minutes old or ahead is refused. The ' +
        'event is stored by its id (a redelivery changes nothing) and queued for the billing worker, which applies ' +
        'it; this answers at once and never reconciles inline. Unknown event types are stored and ignored.',
      tags: ['webhooks'],
      access: 'public',
      body: { kind: 'raw', types: ['application/json'] },
      responses: {
        200: {
          description: 'Stored (or already stored: `duplicate`) and queued',
          schema: Joi.object({
            received: Joi.boolean().valid(true).required(),
            duplicate: Joi.boolean().required(),
          }).unknown(false),
        },
        ...signatureErrors,
      },
      handler: async (req, res) => {
        const raw = Buffer.isBuffer(req.body) ? req.body : undefined;
        res.json(await stripeWebhook.receive(raw, header(req, 'stripe-signature')));
      },
    },
    {
      method: 'post',
      path: '/webhooks/twilio/status',
      summary: "Twilio's status callback for an SMS or WhatsApp notification (`?n=<notification id>`)",
      description:
        'Verified with X-Twilio-Signature over PUBLIC_BASE_URL + the path and query string called. Moves the ' +
        'notification forward only: `delivered` or `read` → delivered; `undelivered` or `failed` → failed, or ' +
        'undeliverable for an address error (30003, 30005, 30006...). Duplicates and late callbacks change nothing.',
      tags: ['webhooks'],
      access: 'public',
      body: 'form',
      responses: { 204: { description: 'Applied, or nothing to change' }, ...signatureErrors },
      handler: async (req, res) => {
        const n = typeof req.query.n === 'string' ? req.query.n : undefined;
        await providerWebhooks.twilioStatus(req.originalUrl, header(req, 'x-twilio-signature'), form(req), n);
        res.status(204).end();
      },
    },
    {
      method: 'post',
      path: '/webhooks/twilio/inbound',
      summary: 'An SMS or WhatsApp message to one of our Twilio numbers: STOP, START and HELP',
      description:
        'STOP, UNSUBSCRIBE, CANCEL, END, QUIT (first word, any case) opt the sender out of that channel and cancel ' +
        'their queued notifications on it; START or UNSTOP (the whole reply) opt back in; HELP is answered. Changes ' +
        'are audited. Answers TwiML.',
      tags: ['webhooks'],
      access: 'public',
      body: 'form',
      responses: {
        200: { description: 'TwiML: empty, or the HELP answer', contentType: 'text/xml' },
        ...signatureErrors,
      },
      handler: async (req, res) => {
        const answer = await providerWebhooks.twilioInbound(
          req.originalUrl,
          header(req, 'x-twilio-signature'),
          form(req),
        );
        res.type('text/xml').send(answer || twiml());
      },
    },
    {
      method: 'post',
      path: '/webhooks/sendgrid/events',
      summary: "SendGrid's signed event webhook: delivered, bounce, dropped, spamreport, unsubscribe",
      description:
        'Verified with the ECDSA signature over the timestamp and the raw body (no older than 5 minutes). Each event ' +
        'is applied once (sg_event_id). A bounce, spam report or unsubscribe opts the client out of email.',
      tags: ['webhooks'],
      access: 'public',
      body: { kind: 'raw', types: ['application/json'] },
      responses: {
        200: {
          description: 'The batch was read: how many events it had, and how many were applied now',
          schema: Joi.object({
            received: Joi.number().integer().min(0).required(),
            applied: Joi.number().integer().min(0).required(),
          }).unknown(false),
        },
        ...signatureErrors,
      },
      handler: async (req, res) => {
        const raw = Buffer.isBuffer(req.body) ? req.body : undefined;
        res.json(await providerWebhooks.sendgridEvents(raw, req.headers as Record<string, string | undefined>));
      },
    },
  ];
}
