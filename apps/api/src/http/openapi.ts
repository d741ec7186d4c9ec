// The OpenAPI document, generated from the same route declarations (and joi schemas) that validate requests.
// The error statuses every route of a kind can answer are added here, once; a route declares only its own.
import j2s from 'joi-to-swagger';
import type Joi from 'joi';
import { bodyOptions, type RouteSpec } from './route';
import { PROBE_PATHS } from './transport';

type Json = Record<string, unknown>;

/**
 * joi-to-swagger's schema, with one OpenAPI 3.0.3 rule applied: a nullable enum must list null itself, or a
 * validator refuses the null it allows.
 */
function toSchema(schema: Joi.Schema): Json {
  const fix = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(fix);
    if (!node || typeof node !== 'object') return node;
    const out: Json = Object.fromEntries(Object.entries(node).map(([k, v]) => [k, fix(v)]));
    if (out.nullable === true && Array.isArray(out.enum) && !out.enum.includes(null))
      out.enum = [...(out.enum as unknown[]), null];
    return out;
  };
  return fix(j2s(schema).swagger) as Json;
}

/** `/users/:id` → `/users/{id}` */
export function openApiPath(expressPath: string): string {
  return expressPath.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

function parameters(where: 'path' | 'query', schema: Joi.ObjectSchema | undefined): Json[] {
  if (!schema) return [];
  const described = toSchema(schema) as { properties?: Record<string, Json>; required?: string[] };
  return Object.entries(described.properties ?? {}).map(([name, s]) => ({
    name,
    in: where,
    required: where === 'path' || (described.required ?? []).includes(name),
    schema: s,
  }));
}

/** Every error body: `{detail, code}`, detail a message or, for a 422, one `{loc, msg, type}` per failing field. */
const ERROR_SCHEMA = {
  type: 'object',
  properties: {
    detail: {
      oneOf: [
        { type: 'string' },
        {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              loc: { type: 'array', items: { oneOf: [{ type: 'string' }, { type: 'integer' }] } },
              msg: { type: 'string' },
              type: { type: 'string' },
            },
            required: ['loc', 'msg', 'type'],
            additionalProperties: false,
          },
        },
      ],
    },
    code: { type: 'string' },
  },
  required: ['detail', 'code'],
  additionalProperties: false,
};

const HEADERS: Record<number, Json> = {
  401: { 'WWW-Authenticate': { description: 'Bearer', schema: { type: 'string' } } },
  429: { 'Retry-After': { description: 'Seconds until a retry may succeed', schema: { type: 'integer' } } },
};

/** The error statuses a route answers by its kind alone: where it sits, who may call it, what it validates and reads. */
function commonErrors(r: RouteSpec): Record<number, string[]> {
  const errors: Record<number, string[]> = {};
  const add = (status: number, why: string) => (errors[status] ??= []).push(why);
  const bodies = bodyOptions(r);
  // /health and /ready escape the host and HTTPS rules at the root only (transport.ts), not under /api/v1.
  const probe = PROBE_PATHS.includes(r.path) ? ' (under /api/v1 only)' : '';
  add(400, `A Host header not allowed (INVALID_HOST)${probe}`);
  add(403, `Plain HTTP in production (HTTPS_REQUIRED)${probe}`);
  if (bodies.length) {
    add(400, 'A malformed or aborted body (MALFORMED_JSON, REQUEST_ABORTED)');
    add(413, `A body over its limit (${bodies.map((b) => `${b.types.join(', ')}: ${b.limit}`).join('; ')})`);
  }
  add(
    415,
    bodies.length
      ? `A body of another type than ${bodies.flatMap((b) => b.types).join(' or ')}, or an unsupported charset or encoding`
      : 'Any non-empty body',
  );
  if (r.access !== 'public') add(401, 'Not authenticated');
  if (r.access === 'superuser') add(403, 'Not a platform admin');
  if (r.schemas?.params) add(404, 'No such resource in your scope');
  if (r.schemas) add(422, 'Validation error: one {loc, msg, type} per failing field');
  add(500, 'Internal error (no internal text is shown)');
  if (r.usesStorage !== false) add(503, 'PostgreSQL did not answer in time (SERVICE_UNAVAILABLE): retry shortly');
  return errors;
}

function requestBody(r: RouteSpec): Json | undefined {
  const bodies = bodyOptions(r);
  if (!bodies.length) return undefined;
  const parsed = r.schemas?.body ? toSchema(r.schemas.body) : { type: 'object' };
  const content: Json = {};
  for (const b of bodies) {
    const schema =
      b.kind === 'json' || b.kind === 'form'
        ? parsed
        : b.kind === 'raw'
          ? { type: 'string', format: 'binary' }
          : { type: 'string' };
    for (const t of b.types) content[t] = { schema };
  }
  // A body is optional exactly when the route's schema accepts none (a logout without a refresh token).
  const required = !r.schemas?.body || r.schemas.body.validate({}).error !== undefined;
  return { required, content };
}

const errorContent = { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } };

function responsesOf(r: RouteSpec): Json {
  const responses: Json = {};
  const declared = r.responses ?? { 200: { description: 'OK' } };
  const common = commonErrors(r);
  const statuses = [...new Set([...Object.keys(declared), ...Object.keys(common)].map(Number))].sort((a, b) => a - b);
  for (const status of statuses) {
    const own = declared[status];
    const description = [own?.description, ...(common[status] ?? [])].filter(Boolean).join('; ');
    const content = own?.contentType
      ? { [own.contentType]: { schema: { type: 'string' } } }
      : own?.schema
        ? { 'application/json': { schema: toSchema(own.schema) } }
        : status >= 400
          ? errorContent
          : undefined;
    responses[status] = {
      description,
      ...(content ? { content } : {}),
      ...(HEADERS[status] ? { headers: HEADERS[status] } : {}),
    };
  }
  return responses;
}

export function buildOpenApi(routes: RouteSpec[], info: { title: string; version: string }): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    const p = openApiPath(r.path);
    const op: Json = {
      summary: r.summary,
      ...(r.description ? { description: r.description } : {}),
      tags: r.tags,
      operationId: `${r.method}_${p.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '')}`,
      parameters: [...parameters('path', r.schemas?.params), ...parameters('query', r.schemas?.query)],
    };
    if (r.access !== 'public') op.security = [{ bearer: [] }, { oauth2: [] }];
    const body = requestBody(r);
    if (body) op.requestBody = body;
    op.responses = responsesOf(r);
    paths[p] ??= {};
    paths[p][r.method] = op;
  }
  return {
    openapi: '3.0.3',
    info: {
      ...info,
      description:
        'Every error answers `{detail, code}`. A known path called with a method it does not list answers 405 with `Allow`; an unknown path answers 404. ' +
        'A request with no body (no Content-Length and no Transfer-Encoding, or Content-Length 0) is accepted whatever its Content-Type.',
    },
    servers: [{ url: '/' }, { url: '/api/v1' }],
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        oauth2: {
          type: 'oauth2',
          flows: { password: { tokenUrl: '/auth/jwt/login', refreshUrl: '/auth/jwt/refresh', scopes: {} } },
        },
      },
    },
  };
}
