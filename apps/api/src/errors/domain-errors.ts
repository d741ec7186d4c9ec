// The one catalogue of errors the API's services and middleware throw. They say what went wrong, never how to
// answer it: http/error-handler.ts alone maps each class to its status, headers and `{detail, code}` body.
import type { CodeOf, ErrorCode } from './error-codes';

export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export abstract class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly detail: string | ValidationIssue[],
  ) {
    super(typeof detail === 'string' ? detail : code);
    this.name = new.target.name;
  }
}

/** Birthday Buddy's own codes: the detail is exactly the code string, as the original sent it. */
export class BadRequest extends DomainError {
  constructor(code: CodeOf<'BadRequest'>, detail: string = code) {
    super(code, detail);
  }
}
export class ValidationFailed extends DomainError {
  constructor(readonly issues: ValidationIssue[]) {
    super('VALIDATION_ERROR', issues);
  }
  static field(where: 'body' | 'query' | 'path', field: string, msg: string, type = 'any.invalid'): ValidationFailed {
    return new ValidationFailed([{ loc: [where, field], msg, type }]);
  }
}
export class Unauthorized extends DomainError {
  constructor(detail = 'Unauthorized', code: CodeOf<'Unauthorized'> = 'UNAUTHORIZED') {
    super(code, detail);
  }
}
export class Forbidden extends DomainError {
  constructor(detail = 'Forbidden', code: CodeOf<'Forbidden'> = 'FORBIDDEN') {
    super(code, detail);
  }
}
export class NotFound extends DomainError {
  constructor(detail = 'Not Found') {
    super('NOT_FOUND', detail);
  }
}
export class MethodNotAllowed extends DomainError {
  constructor(readonly allow: string[]) {
    super('METHOD_NOT_ALLOWED', 'Method Not Allowed');
  }
}
export class Conflict extends DomainError {
  constructor(detail = 'Conflict', code: CodeOf<'Conflict'> = 'CONFLICT') {
    super(code, detail);
  }
}
export class PayloadTooLarge extends DomainError {
  constructor() {
    super('PAYLOAD_TOO_LARGE', 'Payload Too Large');
  }
}
export class UnsupportedMediaType extends DomainError {
  constructor(detail = 'Unsupported Media Type') {
    super('UNSUPPORTED_MEDIA_TYPE', detail);
  }
}
export class RateLimited extends DomainError {
  /** Whole seconds, at least one: what Retry-After will say. */
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super('RATE_LIMITED', 'Too Many Requests');
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}
export class Unavailable extends DomainError {
  constructor(detail = 'Service Unavailable') {
    super('SERVICE_UNAVAILABLE', detail);
  }
}
