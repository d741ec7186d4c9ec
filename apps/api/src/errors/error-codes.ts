// Every `code` the API can answer, in one typed list, grouped by the error class that carries it. A code outside
// this list does not compile; a new code is added here first, so clients and the OpenAPI document have one source.
export const ERROR_CODES = {
  /** Birthday Buddy's own 400 codes (the detail is the code itself), and the HTTP layer's malformed requests. */
  BadRequest: [
    'REGISTER_USER_ALREADY_EXISTS',
    'REGISTER_INVALID_INVITE_TOKEN',
    'REGISTER_WORKSPACE_ALREADY_EXISTS',
    'LOGIN_BAD_CREDENTIALS',
    'RESET_PASSWORD_BAD_TOKEN',
    'UPDATE_USER_INVALID_PASSWORD',
    'UPDATE_USER_EMAIL_ALREADY_EXISTS',
    'WORKSPACE_ALREADY_EXISTS',
    'MALFORMED_JSON',
    'REQUEST_ABORTED',
    'INVALID_HOST',
    'WEBHOOK_SIGNATURE_MISSING',
    'WEBHOOK_MALFORMED',
  ],
  Unauthorized: ['UNAUTHORIZED', 'REFRESH_TOKEN_INVALID', 'WEBHOOK_SIGNATURE_INVALID'],
  Forbidden: ['FORBIDDEN', 'NO_WORKSPACE', 'HTTPS_REQUIRED', 'ORIGIN_MISMATCH'],
  NotFound: ['NOT_FOUND'],
  MethodNotAllowed: ['METHOD_NOT_ALLOWED'],
  Conflict: [
    'CONFLICT',
    'LAST_OWNER',
    'CLIENT_EXTERNAL_REF_EXISTS',
    'CLIENT_EMAIL_EXISTS',
    'CHANNEL_ACCOUNT_ACTIVE_EXISTS',
    'REMINDER_FINISHED',
    'REMINDER_PAUSED',
    'NOTIFICATION_NOT_RESENDABLE',
    'NOTIFICATION_NOT_CANCELLABLE',
    'STRIPE_NOT_CONNECTED',
    'PAYMENT_NOT_CANCELLABLE',
  ],
  PayloadTooLarge: ['PAYLOAD_TOO_LARGE'],
  UnsupportedMediaType: ['UNSUPPORTED_MEDIA_TYPE'],
  ValidationFailed: ['VALIDATION_ERROR'],
  RateLimited: ['RATE_LIMITED'],
  Unavailable: ['SERVICE_UNAVAILABLE'],
  /** Only the error handler answers this one, for an error no class describes. */
  Internal: ['INTERNAL_ERROR'],
} as const;

export type ErrorKind = keyof typeof ERROR_CODES;
/** The codes one error class may carry. */
export type CodeOf<K extends ErrorKind> = (typeof ERROR_CODES)[K][number];
export type ErrorCode = CodeOf<ErrorKind>;

/** Every code, for checks and documentation. */
export const ALL_ERROR_CODES: readonly ErrorCode[] = Object.values(ERROR_CODES).flat();
