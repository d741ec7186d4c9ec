// The OpenAPI document, generated from the same route declarations (and joi schemas) that validate requests.
import j2s from 'joi-to-swagger';
import type Joi from 'joi';
import type { RouteSpec } from './route';

type Json = Record<string, unknown>;

function toSchema(schema: Joi.Schema): Json {
  return j2s(schema).swagger;
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

const ERROR_SCHEMA = {
  type: 'object',
  properties: {
    detail: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'object' } }] },
    code: { type: 'string' },
  },
  required: ['detail', 'code'],
};

export function buildOpenApi(routes: RouteSpec[], info: { title: string; version: string }): Json {
  const paths: Record<string, Record<string, Json>> = {};
  for (const r of routes) {
    const p = openApiPath(r.path);
    const op: Json = {
      summary: r.summary,
      tags: r.tags,
      operationId: `${r.method}_${p.replace(/[^A-Za-z0-9]+/g, '_').replace(/^_|_$/g, '')}`,
      parameters: [...parameters('path', r.schemas?.params), ...parameters('query', r.schemas?.query)],
      responses: {},
    };
    if (r.access !== 'public') op.security = [{ bearer: [] }, { oauth2: [] }];
    if (r.schemas?.body) {
      const body = toSchema(r.schemas.body);
      const content: Json = { 'application/json': { schema: body } };
      if (r.formBody) content['application/x-www-form-urlencoded'] = { schema: body };
      op.requestBody = { required: true, content };
    }
    const responses = op.responses as Json;
    for (const [status, res] of Object.entries(r.responses ?? { 200: { description: 'OK' } })) {
      responses[status] = res.schema ? { description: res.description, content: { 'application/json': { schema: toSchema(res.schema) } } } : { description: res.description };
    }
    if (r.schemas) responses['422'] = { description: 'Validation error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    if (r.access !== 'public') responses['401'] = { description: 'Not authenticated', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
    paths[p] ??= {};
    paths[p][r.method] = op;
  }
  return {
    openapi: '3.0.3',
    info,
    servers: [{ url: '/' }, { url: '/api/v1' }],
    paths,
    components: {
      schemas: { Error: ERROR_SCHEMA },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
        oauth2: { type: 'oauth2', flows: { password: { tokenUrl: '/auth/jwt/login', refreshUrl: '/auth/jwt/refresh', scopes: {} } } },
      },
    },
  };
}
