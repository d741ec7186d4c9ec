// Forms are what a foreign web page can make its visitors' browsers post without a CORS preflight, so a route takes
// one only when it was built for one: login (the OAuth2 password form), Twilio's webhooks (Twilio posts forms) and
// the one-click unsubscribe (RFC 8058 mail clients post a form).
import { expect } from 'chai';
import request from 'supertest';
import { testApp } from '../helpers';

const FORM_TYPES = ['application/x-www-form-urlencoded', 'multipart/form-data'];
const FORM_ROUTES = [
  'POST /auth/jwt/login',
  'POST /unsubscribe/{token}',
  'POST /webhooks/twilio/inbound',
  'POST /webhooks/twilio/status',
];

type Doc = { paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>> };

async function openapi(): Promise<Doc> {
  return (await request(testApp()).get('/openapi.json').expect(200)).body as Doc;
}

/** Every documented operation, with a well-formed id in place of each path parameter. */
function operations(doc: Doc): { method: string; path: string; url: string; takesForm: boolean }[] {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method,
      path,
      url: path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000'),
      takesForm: Object.keys(op.requestBody?.content ?? {}).some((t) => FORM_TYPES.includes(t)),
    })),
  );
}

describe('form bodies', () => {
  it('are accepted by exactly the routes that are listed as form routes', async () => {
    const formRoutes = operations(await openapi())
      .filter((o) => o.takesForm)
      .map((o) => `${o.method.toUpperCase()} ${o.path}`);
    expect(formRoutes.sort()).to.deep.equal(FORM_ROUTES);
  });

  it('answer 415 on POST /auth/forgot-password, as urlencoded and as multipart', async () => {
    const form = await request(testApp())
      .post('/auth/forgot-password')
      .type('form')
      .send({ email: 'someone@example.com' })
      .expect(415);
    expect(form.body.code).to.equal('UNSUPPORTED_MEDIA_TYPE');
    await request(testApp()).post('/auth/forgot-password').field('email', 'someone@example.com').expect(415);
  });

  it('answer 415 on every other route that takes a body or none, before authentication', async () => {
    const others = operations(await openapi()).filter(
      (o) => !o.takesForm && ['post', 'put', 'patch', 'delete'].includes(o.method),
    );
    expect(others.length).to.be.at.least(10);
    for (const o of others) {
      const res = await request(testApp())
        [o.method as 'post'](o.url)
        .type('form')
        .send({ email: 'someone@example.com', name: 'x' });
      expect(res.status, `${o.method.toUpperCase()} ${o.path}`).to.equal(415);
    }
  });
});
