// Request validation with joi: every failing field is reported, as `{loc, msg, type}`, in one 422.
import type { RequestHandler } from 'express';
import type Joi from 'joi';
import { ValidationFailed, type ValidationIssue } from '../errors/domain-errors';

export interface RequestSchemas {
  body?: Joi.Schema;
  query?: Joi.ObjectSchema;
  params?: Joi.ObjectSchema;
}

export interface Validated {
  body: unknown;
  query: Record<string, unknown>;
  params: Record<string, unknown>;
}

declare module 'express-serve-static-core' {
  interface Request {
    valid: Validated;
    id: string;
  }
}

const WHERE = { body: 'body', query: 'query', params: 'path' } as const;

export function validateRequest(schemas: RequestSchemas): RequestHandler {
  return (req, _res, next) => {
    const issues: ValidationIssue[] = [];
    const valid: Validated = { body: req.body as unknown, query: {}, params: {} };
    for (const part of ['params', 'query', 'body'] as const) {
      const schema = schemas[part];
      if (!schema) continue;
      const input: unknown = part === 'body' ? (req.body ?? {}) : { ...(req[part] as Record<string, unknown>) };
      const result: Joi.ValidationResult<unknown> = schema.validate(input, {
        abortEarly: false,
        convert: true,
        errors: { wrap: { label: false } },
      });
      const value: unknown = result.value;
      const error = result.error;
      if (error) {
        for (const d of error.details) issues.push({ loc: [WHERE[part], ...d.path], msg: d.message, type: d.type });
      } else if (part === 'body') valid.body = value;
      else valid[part] = value as Record<string, unknown>;
    }
    if (issues.length) throw new ValidationFailed(issues);
    req.valid = valid;
    next();
  };
}
