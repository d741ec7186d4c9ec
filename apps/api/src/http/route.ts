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

/** `/birthdays/:id` → `/birthdays` and `/:id`, `/birthdays/` → `/birthdays` and `/`; undefined for `/health`. */
function splitFirstSegment(path: string): { prefix: string; rest: string } | undefined {
  const end = path.indexOf('/', 1);
  if (end === -1) return undefined;
  const prefix = path.slice(0, end);
  if (prefix.includes(':')) throw new Error(`route ${path}: its first path segment must be literal`);
  return { prefix, rest: path.slice(end) };
}

interface RouteTable {
  router: express.Router;
  methodsByPath: Map<string, Set<string>>;
}

export function buildRouter(routes: RouteSpec[], guards: AccessGuards): express.Router {
  const top: RouteTable = { router: express.Router(), methodsByPath: new Map() };
  // Routes under a first path segment (`/birthdays/...`) get a router of their own, mounted at it: a request is
  // matched against the segments, then against its own segment's few routes, instead of against every route declared
  // before its own (the cached GET /birthdays/ went through 24; Express's matching was a tenth of its CPU). Labels
  // and error messages still see the full path (req.baseUrl + the route's path; Express restores req.path on the way
  // out). A one-segment path (`/health`) stays on the top router, so that it keeps its exact form.
  const groups = new Map<string, RouteTable>();
  for (const r of routes) {
    const split = splitFirstSegment(r.path);
    let table = top;
    let path = r.path;
    if (split) {
      path = split.rest;
      table = groups.get(split.prefix) ?? { router: express.Router(), methodsByPath: new Map() };
      if (!groups.has(split.prefix)) {
        groups.set(split.prefix, table);
        top.router.use(split.prefix, table.router);
      }
    }
    // The body first: the `before` handlers (the login gate) read it.
    const chain: RequestHandler[] = [bodyParser(bodyOptions(r)), rebindContext(), ...(r.before ?? [])];
    if (r.access !== 'public') chain.push(guards.user);
    if (r.access === 'superuser') chain.push(guards.superuser);
    if (r.schemas) chain.push(validateRequest(r.schemas));
    chain.push(async (req, res) => {
      await r.handler(req, res);
    });
    table.router[r.method](path, ...chain);
    const set = table.methodsByPath.get(path) ?? new Set<string>();
    set.add(r.method.toUpperCase());
    if (r.method === 'get') set.add('HEAD');
    table.methodsByPath.set(path, set);
  }
  for (const path of top.methodsByPath.keys())
    if (groups.has(path)) throw new Error(`route ${path}: also the first segment of longer routes`);
  // A known path with an unknown method answers 405 with Allow, not 404.
  for (const table of [top, ...groups.values()])
    for (const [path, methods] of table.methodsByPath) {
      table.router.all(path, () => {
        throw new MethodNotAllowed([...methods].sort());
      });
    }
  return top.router;
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
