// The OpenAPI document: valid OpenAPI, every status a route can answer listed once by kind, and the check that holds
// every answer of the suite to it (openapi-conformance.ts) really refusing the answers that disagree.
import { expect } from 'chai';
import request from 'supertest';
import express from 'express';
import Joi from 'joi';
import { buildOpenApi } from '../../src/http/openapi';
import type { RouteSpec } from '../../src/http/route';
import { testApp } from '../helpers';
import { conformanceProblems, openApiBackend, type Exchange } from '../openapi-conformance';

type Doc = {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
  >;
};
const doc = () => testApp().locals.openapi as Doc;
const statuses = (path: string, method: string) =>
  Object.keys(doc().paths[path]?.[method]?.responses ?? {}).map(Number);

const WORKSPACE = {
  id: '0190a0a0-0000-7000-8000-000000000001',
  name: 'Acme',
  timezone: 'UTC',
  birthday_post_time: '09:00',
  birthday_message_template: null,
  leap_day_rule: 'feb28',
  slack_webhook: null,
  slack_status: 'ok',
  sender_name: null,
  default_channels: ['email'],
  currency: 'USD',
  stripe: { account_id: null, charges_enabled: false },
  notify_on_payment: false,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
};
const exchange = (over: Partial<Exchange>): Exchange => {
  const body = over.body ?? WORKSPACE;
  return {
    method: 'GET',
    path: `/workspaces/${WORKSPACE.id}`,
    status: 200,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    text: JSON.stringify(body),
    body,
    ...over,
  };
};

describe('the OpenAPI document', () => {
  it('is valid OpenAPI 3.0, checked against the specification schema', async function () {
    // Compiling a validator for every operation is CPU-bound: seconds on an idle machine, far more on a loaded one.
    this.timeout(120_000);
    await openApiBackend(doc(), { strict: true });
  });

  it("lists the workspace's every field, and forbids others", () => {
    const schema = doc().paths['/workspaces/{id}']?.get?.responses['200']?.content?.['application/json']?.schema as {
      required: string[];
      additionalProperties: boolean;
    };
    expect(schema.required).to.include.members(['sender_name', 'default_channels', 'currency', 'slack_webhook']);
    expect(schema.additionalProperties).to.equal(false);
  });

  it('lists the statuses each kind of route can answer, from one place', () => {
    expect(statuses('/users/{id}', 'patch')).to.deep.equal([200, 400, 401, 403, 404, 409, 413, 415, 422, 500, 503]);
    expect(statuses('/users/all', 'get')).to.deep.equal([200, 400, 401, 403, 415, 500, 503]);
    expect(statuses('/auth/jwt/login', 'post')).to.deep.equal([200, 400, 403, 413, 415, 422, 429, 500, 503]);
    expect(statuses('/health', 'get')).to.deep.equal([200, 400, 403, 415, 500]);
    const error = doc().paths['/users/{id}']?.get?.responses['404']?.content?.['application/json']?.schema;
    expect(error).to.deep.equal({ $ref: '#/components/schemas/Error' });
  });

  it('lists 413 and the body types only for a route that takes a body', () => {
    const routes: RouteSpec[] = [
      { method: 'get', path: '/a', summary: 'a', tags: [], access: 'public', handler: () => undefined },
      { method: 'post', path: '/b', summary: 'b', tags: [], access: 'public', body: 'csv', handler: () => undefined },
    ];
    const built = buildOpenApi(routes, { title: 't', version: '0' }) as Doc;
    expect(Object.keys(built.paths['/a']?.get?.responses ?? {})).to.not.include('413');
    expect(Object.keys(built.paths['/b']?.post?.responses ?? {})).to.include('413');
  });
});

describe('the answer check', () => {
  it('passes an answer that matches the document', async () => {
    expect(await conformanceProblems(doc(), exchange({}))).to.deep.equal([]);
    expect(await conformanceProblems(doc(), exchange({ path: `/api/v1/workspaces/${WORKSPACE.id}` }))).to.deep.equal(
      [],
    );
  });

  it('reports a body that breaks its schema: a missing field, an extra one, a wrong type', async () => {
    const { currency: _dropped, ...missing } = WORKSPACE;
    expect((await conformanceProblems(doc(), exchange({ body: missing }))).join()).to.include(
      "must have required property 'currency'",
    );
    expect((await conformanceProblems(doc(), exchange({ body: { ...WORKSPACE, secret: 'x' } }))).join()).to.include(
      'must NOT have additional properties',
    );
    expect(
      (await conformanceProblems(doc(), exchange({ body: { ...WORKSPACE, created_at: 'yesterday' } }))).join(),
    ).to.include('must match format "date-time"');
  });

  it('reports a status the route does not document, and an error body that is not {detail, code}', async () => {
    expect((await conformanceProblems(doc(), exchange({ status: 418 }))).join()).to.include('documents only');
    expect((await conformanceProblems(doc(), exchange({ status: 404, body: { error: 'gone' } }))).join()).to.include(
      'must have required property',
    );
  });

  it('reports a body where none is documented, and none where one is', async () => {
    expect(await conformanceProblems(doc(), exchange({ method: 'DELETE', status: 204 }))).to.have.length(1);
    expect(await conformanceProblems(doc(), exchange({ text: '', body: {} }))).to.have.length(1);
  });

  it('holds unknown paths to a {detail, code} 404 and undocumented methods to a 405 with the right Allow', async () => {
    const err = (code: string) => ({ detail: code, code });
    expect(
      await conformanceProblems(doc(), exchange({ path: '/nope', status: 404, body: err('NOT_FOUND') })),
    ).to.deep.equal([]);
    expect(await conformanceProblems(doc(), exchange({ path: '/nope', status: 200 }))).to.have.length(1);
    expect(
      await conformanceProblems(
        doc(),
        exchange({
          method: 'PUT',
          status: 405,
          headers: { allow: 'DELETE, GET, HEAD, PATCH' },
          body: err('METHOD_NOT_ALLOWED'),
        }),
      ),
    ).to.deep.equal([]);
    expect(
      await conformanceProblems(
        doc(),
        exchange({ method: 'PUT', status: 405, headers: { allow: 'GET' }, body: err('METHOD_NOT_ALLOWED') }),
      ),
    ).to.have.length(1);
  });

  it('fails the request of a test that receives a disagreeing answer', async () => {
    // A route whose handler sends something other than what the route declares.
    const routes: RouteSpec[] = [
      {
        method: 'get',
        path: '/liar',
        summary: 'liar',
        tags: [],
        access: 'public',
        responses: { 200: { description: 'A count', schema: Joi.object({ count: Joi.number() }) } },
        handler: (_req, res) => res.json({ count: 'many' }),
      },
    ];
    const app = express();
    app.get('/liar', (_req, res) => {
      res.json({ count: 'many' });
    });
    app.locals.openapi = buildOpenApi(routes, { title: 't', version: '0' });
    let failure: unknown;
    await request(app)
      .get('/liar')
      .expect(200)
      .catch((e: unknown) => (failure = e));
    expect(String(failure)).to.include('disagrees with /openapi.json').and.include('body/count must be number');
  });
});
