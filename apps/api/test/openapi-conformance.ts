// Keeps /openapi.json honest: every answer a test receives through supertest from an app built by createApp is
// checked against the document that app serves, with openapi-backend (ajv underneath). An undocumented status, a
// JSON body that breaks its schema, a body where none is documented (or the reverse) fails the test that received it.
//
// Outside the document, and so not checked against it: /openapi.json, /docs, /metrics, /admin/queues (operations
// endpoints, not API), the /reset-password page, and OPTIONS (CORS preflights, answered before routing). An unknown path must still answer a
// `{detail, code}` 404, and a documented path called with a method it does not list a `{detail, code}` 405 with
// Allow naming exactly the listed methods (or, for either, a transport refusal: 400 INVALID_HOST, 403 HTTPS_REQUIRED).
import http from 'node:http';
import { OpenAPIBackend, type Document, type Operation } from 'openapi-backend';
import addFormats from 'ajv-formats';
import Test from 'supertest/lib/test.js';
import type { Response } from 'superagent';

/** Paths served beside the API, not described by its document. */
export const UNDOCUMENTED_PATHS = ['/openapi.json', '/docs', '/metrics', '/admin/queues', '/reset-password'];
const API_PREFIX = '/api/v1';

/** What a check needs of a request and its answer. */
export interface Exchange {
  method: string;
  /** The path as sent, with /api/v1 when it was sent with it; the query is ignored. */
  path: string;
  status: number;
  headers: Record<string, string | undefined>;
  /** The raw body text ('' when none). */
  text: string;
  /** The parsed JSON body, when the answer is JSON. */
  body: unknown;
}

const backends = new Map<string, Promise<OpenAPIBackend>>();

/**
 * A validator for a document. `strict` first checks the document itself against the OpenAPI schema, which takes
 * seconds: the conformance suite does that once, and the per-answer checks compile only the schemas they meet.
 */
export function openApiBackend(document: object, opts: { strict?: boolean } = {}): Promise<OpenAPIBackend> {
  return new OpenAPIBackend({
    definition: structuredClone(document) as Document,
    strict: opts.strict ?? false,
    quick: !opts.strict,
    // Express serves /birthdays and /birthdays/ alike; matchOperation below tries both spellings itself.
    ignoreTrailingSlashes: false,
    // date-time, uuid, email...: openapi-backend knows only the numeric formats by itself.
    customizeAjv: (ajv) => addFormats(ajv),
  }).init();
}

/** One validator per distinct document (apps built with other configurations serve equal ones). */
function backendFor(document: object): Promise<OpenAPIBackend> {
  const key = JSON.stringify(document);
  let backend = backends.get(key);
  if (!backend) {
    backend = openApiBackend(document);
    backends.set(key, backend);
  }
  return backend;
}

/** The operation for a method and path, with or without a trailing slash (Express's routing is not strict). */
function matchOperation(api: OpenAPIBackend, method: string, path: string): Operation | undefined {
  const other = path.endsWith('/') ? path.replace(/\/+$/, '') : `${path}/`;
  return (
    api.matchOperation({ method, path, headers: {} }) ??
    (other ? api.matchOperation({ method, path: other, headers: {} }) : undefined)
  );
}

const under = (path: string, prefix: string) => path === prefix || path.startsWith(`${prefix}/`);
const isErrorBody = (body: unknown) =>
  !!body &&
  typeof body === 'object' &&
  Object.keys(body).sort().join() === 'code,detail' &&
  typeof (body as { code: unknown }).code === 'string';

function describe(x: Exchange): string {
  const text = x.text.length > 400 ? `${x.text.slice(0, 400)}…` : x.text;
  return `${x.method} ${x.path} answered ${x.status}${text ? ` ${text}` : ''}`;
}

/** The problems of one answer against a document; empty when it conforms. */
export async function conformanceProblems(document: object, x: Exchange): Promise<string[]> {
  const method = x.method.toUpperCase();
  const path = under(x.path, API_PREFIX) ? x.path.slice(API_PREFIX.length) || '/' : x.path;
  if (method === 'OPTIONS' || UNDOCUMENTED_PATHS.some((p) => under(path, p) && !under(x.path, API_PREFIX))) return [];
  const api = await backendFor(document);
  const lookup = method === 'HEAD' ? 'GET' : method;
  const operation = matchOperation(api, lookup, path);
  if (!operation) return unroutedProblems(api, path, x);
  return answerProblems(api, operation, method, x);
}

/** A path the document does not have, or a method it does not list for a path it has. */
function unroutedProblems(api: OpenAPIBackend, path: string, x: Exchange): string[] {
  const listed = api.router
    .getOperations()
    .filter((op) => matchOperation(api, op.method, path)?.operationId === op.operationId)
    .map((op) => op.method.toUpperCase());
  const refusals = [400, 403, listed.length ? 405 : 404];
  if (!refusals.includes(x.status))
    return [
      `${describe(x)}: the document has ${listed.length ? `only ${listed.join(', ')} for this path, so expected 405` : 'no such path, so expected 404'}`,
    ];
  if (!isErrorBody(x.body)) return [`${describe(x)}: expected a {detail, code} body`];
  if (x.status === 405) {
    const allow = [...new Set([...listed, ...(listed.includes('GET') ? ['HEAD'] : [])])].sort().join(', ');
    if (x.headers.allow !== allow)
      return [`${describe(x)}: Allow is "${x.headers.allow ?? ''}", the document lists ${allow}`];
  }
  return [];
}

function answerProblems(api: OpenAPIBackend, operation: Operation, method: string, x: Exchange): string[] {
  const responses = (operation.responses ?? {}) as Record<string, { content?: Record<string, unknown> }>;
  const documented = responses[String(x.status)];
  const where = `${operation.method.toUpperCase()} ${operation.path}`;
  if (!documented) return [`${describe(x)}: ${where} documents only ${Object.keys(responses).join(', ')}`];
  if (method === 'HEAD') return [];
  const types = Object.keys(documented.content ?? {});
  const sent = (x.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
  if (!types.length) return x.text ? [`${describe(x)}: ${where} documents no body for ${x.status}`] : [];
  if (!x.text)
    return [`${describe(x)}: ${where} documents a ${types.join(' or ')} body for ${x.status}, and none came`];
  if (!types.includes(sent))
    return [
      `${describe(x)}: sent as ${sent || 'no Content-Type'}, ${where} documents ${types.join(' or ')} for ${x.status}`,
    ];
  if (sent !== 'application/json') return [];
  const result = api.validateResponse(x.body, operation, x.status);
  return (result.errors ?? []).map(
    (e) =>
      `${describe(x)}: body${e.instancePath || ''} ${e.message ?? 'is invalid'}${e.params ? ` ${JSON.stringify(e.params)}` : ''} (${where} ${x.status})`,
  );
}

/** The document of the app behind a supertest request, when createApp built it. */
function documentOf(test: Test): object | undefined {
  const server = test.app as unknown;
  if (!(server instanceof http.Server)) return undefined;
  const app = server.listeners('request')[0] as { locals?: { openapi?: object } } | undefined;
  return app?.locals?.openapi;
}

type Done = (err: unknown, res?: Response) => void;
type Assert = (this: Test, resError: unknown, res: Response | undefined, fn?: Done) => void;

let installed = false;

/**
 * Wraps supertest's final assertion step (it runs for `.expect(...)`, `.end(cb)` and `await` alike): once a test's
 * own expectations pass, the answer is checked against the document, and a mismatch becomes the request's error.
 */
export function checkEveryAnswer(): void {
  if (installed) return;
  installed = true;
  const proto = Test.prototype as unknown as { assert: Assert };
  const original = proto.assert;
  proto.assert = function (this: Test, resError, res, fn) {
    original.call(this, resError, res, (err, r) => {
      const document = documentOf(this);
      if (err || !r || !document) return fn?.call(this, err, r);
      const exchange: Exchange = {
        method: this.method,
        path: new URL(this.url).pathname,
        status: r.status,
        headers: r.headers,
        text: typeof r.text === 'string' ? r.text : '',
        body: r.body as unknown,
      };
      conformanceProblems(document, exchange).then(
        (problems) =>
          fn?.call(
            this,
            problems.length ? new Error(`The answer disagrees with /openapi.json:\n  ${problems.join('\n  ')}`) : null,
            r,
          ),
        (e: unknown) => fn?.call(this, e, r),
      );
    });
  };
}
