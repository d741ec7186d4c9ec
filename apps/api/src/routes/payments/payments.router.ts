import type { RouteSpec } from '../../http/route';
import { pathId } from '../../http/route';
import type { Services } from '../../services';
import { principalOf } from '../../auth/authenticate';
import { idParams } from '../../http/schemas';
import type { PaymentListQuery } from '../../services/payments.service';
import { payCancelHtml, paySuccessHtml } from '../../pages/pay.page';
import { listQuery, noFields, payerPageQuery, paymentDetailOut, paymentOut, paymentPage } from './payments.schemas';
import { serializePayment, serializePaymentDetail } from './payments.serializers';

interface ListQuery {
  status?: PaymentListQuery['status'];
  client_id?: string;
  reminder_id?: string;
  from?: Date;
  to?: Date;
  limit: number;
  cursor?: string;
}

/** Browser pages: never cached, never sent on as a referrer (the cancel page's link is the payer's own). */
const PAGE_HEADERS = { 'Cache-Control': 'no-store', 'Referrer-Policy': 'no-referrer' };

export function paymentsRoutes({ payments }: Services): RouteSpec[] {
  const tags = ['payments'];
  return [
    {
      method: 'get',
      path: '/payments/',
      summary:
        "The caller's workspace's payments, newest first; from/to bound created_at (from inclusive, to exclusive)",
      tags,
      access: 'user',
      schemas: { query: listQuery },
      responses: { 200: { description: 'A page of payments', schema: paymentPage } },
      handler: async (req, res) => {
        const q = req.valid.query as unknown as ListQuery;
        const page = await payments.list(principalOf(req), {
          status: q.status,
          clientId: q.client_id,
          reminderId: q.reminder_id,
          from: q.from,
          to: q.to,
          limit: q.limit,
          cursor: q.cursor,
        });
        res.json({ items: page.items.map(serializePayment), next_cursor: page.next_cursor });
      },
    },
    {
      method: 'get',
      path: '/payments/:id',
      summary: 'A payment with the Stripe events that moved it (their ids, types and times, never their payloads)',
      tags,
      access: 'user',
      schemas: { params: idParams },
      responses: { 200: { description: 'The payment', schema: paymentDetailOut } },
      handler: async (req, res) => {
        res.json(serializePaymentDetail(await payments.get(principalOf(req), pathId(req))));
      },
    },
    {
      method: 'post',
      path: '/payments/:id/cancel',
      summary: 'Cancel an open payment (owner or admin): the billing worker expires its Checkout link',
      description:
        'Answers 202 at once; the billing worker expires the Checkout Session and marks the payment `cancelled`. ' +
        'A payment completed meanwhile stays paid. Audited as `payment.cancel_requested`. Asking again while the ' +
        'payment is still open queues the cancellation again.',
      tags,
      access: 'user',
      schemas: { params: idParams, body: noFields },
      responses: {
        202: { description: 'The cancellation is queued; the payment as it is now', schema: paymentOut },
        403: { description: 'Not an owner or admin of its workspace' },
        409: {
          description:
            'Not open any more: paid, processing, refunded, failed, expired or cancelled (PAYMENT_NOT_CANCELLABLE)',
        },
      },
      handler: async (req, res) => {
        res.status(202).json(serializePayment(await payments.cancel(principalOf(req), pathId(req))));
      },
    },
    {
      method: 'get',
      path: '/pay/success',
      summary: 'The page Stripe Checkout returns the payer to after paying',
      description:
        'Names the business the payment was for, found by the Checkout Session id Stripe appends (`session_id`). ' +
        'Without one, or with one that names no payment, the page is the same thank-you without a name.',
      tags,
      access: 'public',
      schemas: { query: payerPageQuery },
      responses: { 200: { description: 'An HTML thank-you page', contentType: 'text/html' } },
      handler: async (req, res) => {
        const facts = await payments.payerPage({ sessionId: req.valid.query.session_id });
        res
          .set(PAGE_HEADERS)
          .type('text/html')
          .send(paySuccessHtml({ workspaceName: facts?.workspace_name, paid: facts?.paid }));
      },
    },
    {
      method: 'get',
      path: '/pay/cancel',
      summary: 'The page Stripe Checkout returns the payer to when they leave without paying',
      description:
        'Names the business and links back to the Checkout page while the payment is still open, when the URL ' +
        'names the payment (`session_id` or `payment_id`); otherwise a generic page.',
      tags,
      access: 'public',
      schemas: { query: payerPageQuery },
      responses: { 200: { description: 'An HTML page with a link to try again', contentType: 'text/html' } },
      handler: async (req, res) => {
        const facts = await payments.payerPage({
          sessionId: req.valid.query.session_id,
          paymentId: req.valid.query.payment_id,
        });
        res
          .set(PAGE_HEADERS)
          .type('text/html')
          .send(payCancelHtml({ workspaceName: facts?.workspace_name, retryUrl: facts?.retry_url }));
      },
    },
  ];
}
