// A route is declared once, with its joi schemas, and that one declaration both serves requests and describes
// them in the OpenAPI document, so the two cannot drift.
import express, { type RequestHandler, type Request, type Response } from 'express';
import type Joi from 'joi';
import { validateRequest, type RequestSchemas } from './validate';
import { MethodNotAllowed } from '../errors/domain-errors';

export type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call a route: anyone, any signed-in user, or the platform admin. Finer checks live in services. */
export type Access = 'public' | 'user' | 'superuser';

export interface RouteResponse {
  description: string;
  schema?: Joi.Schema;
}

export interface RouteSpec {
  method: Method;
  /** Express path syntax, e.g. `/users/:id`. */
  path: string;
  summary: string;
  tags: string[];
  access: Access;
  schemas?: RequestSchemas;
  /** Extra request content types the body accepts besides JSON (the login's OAuth2 form). */
  formBody?: boolean;
  responses?: Record<number, RouteResponse>;
  /** Runs before authentication and validation, e.g. rate limits that must act before any hashing. */
  before?: RequestHandler[];
  handler: (req: Request, res: Response) => unknown;
}

export interface AccessGuards {
  user: RequestHandler;
  superuser: RequestHandler;
}

export function buildRouter(routes: RouteSpec[], guards: AccessGuards): express.Router {
  const router = express.Router();
  const methodsByPath = new Map<string, Set<string>>();
  for (const r of routes) {
    const chain: RequestHandler[] = [...(r.before ?? [])];
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
