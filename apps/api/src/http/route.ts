// A route is declared once, with its joi schemas, and that one declaration both serves requests and describes
// them in the OpenAPI document, so the two cannot drift.
import express, { type RequestHandler, type Request, type Response } from 'express';
import type Joi from 'joi';
import { validateRequest, type RequestSchemas } from './validate';
import { MethodNotAllowed, UnsupportedMediaType } from '../errors/domain-errors';
import { rebindContext } from './request-context';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call a route: anyone, any signed-in user, or the platform admin. Finer checks live in services. */
export type Access = 'public' | 'user' | 'superuser';

export interface RouteResponse {
  description: string;
  schema?: Joi.Schema;
  /** A body that is not JSON (TwiML's text/xml): its media type, documented as a string. */
  contentType?: string;
}

/**
 * The kinds of request body a route may take. json and form are parsed into `req.body`; raw keeps the exact bytes as
 * a Buffer (a webhook's signature is computed over them); csv is kept as text for an import to parse.
 */
export type BodyKind = 'json' | 'form' | 'raw' | 'csv';
export interface BodyOption {
  kind: BodyKind;
  /** body-parser's limit, e.g. '1mb'; each kind has its own default (BODY_DEFAULTS). */
  limit?: string;
  /** The media types accepted; each kind has defaults (BODY_DEFAULTS), a signed webhook's raw body names its own. */
  types?: string[];
}
export type RouteBody = BodyKind | BodyOption | (BodyKind | BodyOption)[];

/** Each kind's media types and size limit, unless a route says otherwise. */
export const BODY_DEFAULTS: Record<BodyKind, { types: string[]; limit: string }> = {
  json: { types: ['application/json'], limit: '1mb' },
  form: { types: ['application/x-www-form-urlencoded'], limit: '1mb' },
  raw: { types: ['application/octet-stream'], limit: '1mb' },
  csv: { types: ['text/csv'], limit: '20mb' },
};

export interface RouteSpec {
  method: Method;
  /** Express path syntax, e.g. `/users/:id`. */
  path: string;
  summary: string;
  /** Longer documentation for the OpenAPI operation, when the summary cannot say it all (Markdown). */
  description?: string;
  tags: string[];
  access: Access;
  schemas?: RequestSchemas;
  /**
   * The request bodies the route takes; without it, JSON when `schemas.body` is set and none otherwise. A non-empty
   * body of another type answers 415.
   */
  body?: RouteBody;
  /**
   * The success answers, and the error statuses particular to this route (a 404 for a missing workspace, a 429 of a
   * rate limit). buildOpenApi adds the statuses every route of a kind can answer.
   */
  responses?: Record<number, RouteResponse>;
  /**
   * False for a route that reads neither PostgreSQL nor Redis (a liveness probe, a static list): it cannot answer
   * 503 when they are down. Every other route can, and its document says so.
   */
  usesStorage?: false;
  /** Runs before authentication and validation, e.g. rate limits that must act before any hashing. */
  before?: RequestHandler[];
  handler: (req: Request, res: Response) => unknown;
}

export interface AccessGuards {
  user: RequestHandler;
  superuser: RequestHandler;
}

/** The body options a route declares, with their defaults filled in. */
export function bodyOptions(r: Pick<RouteSpec, 'body' | 'schemas'>): Required<BodyOption>[] {
  const declared = r.body ?? (r.schemas?.body ? 'json' : []);
  return (Array.isArray(declared) ? declared : [declared]).map((b) => {
    const o = typeof b === 'string' ? { kind: b } : b;
    return {
      kind: o.kind,
      limit: o.limit ?? BODY_DEFAULTS[o.kind].limit,
      types: o.types ?? BODY_DEFAULTS[o.kind].types,
    };
  });
}

function parserFor(o: Required<BodyOption>): RequestHandler {
  switch (o.kind) {
    case 'json':
      return express.json({ limit: o.limit, type: o.types });
    case 'form':
      return express.urlencoded({ extended: false, limit: o.limit, type: o.types });
    case 'raw':
      return express.raw({ limit: o.limit, type: o.types });
    case 'csv':
      return express.text({ limit: o.limit, type: o.types });
  }
}

/**
 * Clients send bodiless POSTs with a Content-Type and `Content-Length: 0`, or with neither length nor chunking: those
 * have no body, whatever their Content-Type says.
 */
function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

/** Parses the body with the parser of the declared kind its Content-Type names; any other non-empty body is a 415. */
function bodyParser(options: Required<BodyOption>[]): RequestHandler {
  const parsers = options.map((o) => ({ types: o.types, parse: parserFor(o) }));
  const accepted = options.flatMap((o) => o.types);
  return (req, res, next) => {
    if (!hasBody(req)) return next();
    const match = parsers.find((p) => req.is(p.types));
    if (match) return match.parse(req, res, next);
    next(
      new UnsupportedMediaType(
        accepted.length
          ? `Unsupported Content-Type: this route takes ${accepted.join(' or ')}`
          : 'This route takes no body',
      ),
    );
  };
}

export function buildRouter(routes: RouteSpec[], guards: AccessGuards): express.Router {
  const router = express.Router();
  const methodsByPath = new Map<string, Set<string>>();
  for (const r of routes) {
    // The body first: the `before` handlers (the login gate) read it.
    const chain: RequestHandler[] = [bodyParser(bodyOptions(r)), rebindContext(), ...(r.before ?? [])];
    if (r.access !== 'public') chain.push(guards.user);
    if (r.access === 'superuser') chain.push(guards.superuser);
    if (r.schemas) chain.push(validateRequest(r.schemas));
    chain.push(async (req, res) => {
      await r.handler(req, res);
    });
    router[r.method](r.path, ...chain);
    const set = methodsByPath.get(r.path) ?? new Set<string>();
    set.add(r.method.toUpperCase());
    if (r.method === 'get') set.add('HEAD');
    methodsByPath.set(r.path, set);
  }
  // A known path with an unknown method answers 405 with Allow, not 404.
  for (const [path, methods] of methodsByPath) {
    router.all(path, () => {
      throw new MethodNotAllowed([...methods].sort());
    });
  }
  return router;
}

/** The validated `:id` path parameter of a route whose params schema is `idParams`. */
export function pathId(req: Request): string {
  return req.valid.params.id as string;
}

/** The page a collection route was asked for, as validated by pageQuery. */
export function pageRequest(req: Request): { limit: number; cursor?: string } {
  const { limit, cursor } = req.valid.query as { limit: number; cursor?: string };
  return { limit, cursor };
}
