// The public one-click unsubscribe endpoint of reminder mail (List-Unsubscribe, RFC 8058): GET shows a confirmation
// page, POST (the page's button, or the mail client's one-click `List-Unsubscribe=One-Click`) opts the client out.
import Joi from 'joi';
import type { RouteSpec } from '../../http/route';
import type { Services } from '../../services';

const params = Joi.object({ token: Joi.string().max(200).required() });

export function unsubscribeRoutes({ unsubscribe }: Services): RouteSpec[] {
  return [
    {
      method: 'get',
      path: '/unsubscribe/:token',
      summary: 'The confirmation page of a reminder mail’s unsubscribe link',
      description: 'Changes nothing: link scanners follow it. The page’s button posts to the same URL.',
      tags: ['unsubscribe'],
      access: 'public',
      schemas: { params },
      responses: { 200: { description: 'An HTML page with an Unsubscribe button', contentType: 'text/html' } },
      handler: async (req, res) => {
        const action = req.originalUrl.split('?')[0] ?? req.originalUrl;
        const html = await unsubscribe.confirmationPage(String(req.params.token), action);
        res.type('text/html').send(html);
      },
    },
    {
      method: 'post',
      path: '/unsubscribe/:token',
      summary: 'One-click unsubscribe: opts the client out of email (RFC 8058)',
      description:
        'Takes `List-Unsubscribe=One-Click` as a form (or no body). Opts the client out of email, cancels their ' +
        'queued mail, and is audited; posting again changes nothing.',
      tags: ['unsubscribe'],
      access: 'public',
      schemas: { params },
      body: 'form',
      responses: { 200: { description: 'An HTML page saying the client is unsubscribed', contentType: 'text/html' } },
      handler: async (req, res) => {
        const html = await unsubscribe.unsubscribe(String(req.params.token));
        res.type('text/html').send(html);
      },
    },
  ];
}
