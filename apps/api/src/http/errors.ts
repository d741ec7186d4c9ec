// Typed errors. Services throw these; the one error handler turns them into `{detail, code}` bodies.
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly detail: string | ValidationIssue[] = code,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof detail === 'string' ? detail : code);
    this.name = new.target.name;
  }
}

/** Birthday Buddy's own codes: the detail is exactly the code string, as the original sent it. */
export class BadRequest extends HttpError {
  constructor(code: string, detail: string = code) {
    super(400, code, detail);
  }
}
export class ValidationFailed extends HttpError {
  constructor(issues: ValidationIssue[]) {
    super(422, 'VALIDATION_ERROR', issues);
  }
  static field(where: 'body' | 'query' | 'path', field: string, msg: string, type = 'any.invalid'): ValidationFailed {
    return new ValidationFailed([{ loc: [where, field], msg, type }]);
  }
}
export class Unauthorized extends HttpError {
  constructor(detail = 'Unauthorized', code = 'UNAUTHORIZED') {
    super(401, code, detail, { 'WWW-Authenticate': 'Bearer' });
  }
}
export class Forbidden extends HttpError {
  constructor(detail = 'Forbidden', code = 'FORBIDDEN') {
    super(403, code, detail);
  }
}
export class NotFound extends HttpError {
  constructor(detail = 'Not Found') {
    super(404, 'NOT_FOUND', detail);
  }
}
export class MethodNotAllowed extends HttpError {
  constructor(allow: string[]) {
    super(405, 'METHOD_NOT_ALLOWED', 'Method Not Allowed', { Allow: allow.join(', ') });
  }
}
export class Conflict extends HttpError {
  constructor(detail = 'Conflict', code = 'CONFLICT') {
    super(409, code, detail);
  }
}
export class PayloadTooLarge extends HttpError {
  constructor() {
    super(413, 'PAYLOAD_TOO_LARGE', 'Payload Too Large');
  }
}
export class UnsupportedMediaType extends HttpError {
  constructor(detail = 'Unsupported Media Type') {
    super(415, 'UNSUPPORTED_MEDIA_TYPE', detail);
  }
}
export class RateLimited extends HttpError {
  constructor(retryAfterSeconds: number) {
    const s = Math.max(1, Math.ceil(retryAfterSeconds));
    super(429, 'RATE_LIMITED', 'Too Many Requests', { 'Retry-After': String(s) });
  }
}
export class ServiceUnavailable extends HttpError {
  constructor(detail = 'Service Unavailable') {
    super(503, 'SERVICE_UNAVAILABLE', detail);
  }
}
