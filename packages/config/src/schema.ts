// The environment's schema: types, ranges and defaults. Cross-field rules (production requirements, credential
// formats under STRICT_VALIDATION) live in index.ts, because they depend on more than one variable.
import Joi from 'joi';

export type RawEnv = Record<string, string | undefined>;

// Booleans accept true/false/1/0/yes/no in any case.
const bool = () =>
  Joi.boolean()
    .truthy('1', 'yes', 'YES', 'Yes', 'TRUE', 'True')
    .falsy('0', 'no', 'NO', 'No', 'FALSE', 'False')
    .sensitive(false);
/** Comma-separated in the environment; index.ts splits them before validation. */
export const LIST_VARIABLES = ['CORS_ORIGINS', 'ALLOWED_HOSTS', 'TRUSTED_PROXIES', 'SLACK_WEBHOOK_HOSTS'] as const;
const list = () => Joi.array().items(Joi.string());
const int = (min: number, def: number) => Joi.number().integer().min(min).default(def);
const url = (schemes: string[]) => Joi.string().uri({ scheme: schemes });

export const schema = Joi.object({
  ENV: Joi.string().valid('development', 'test', 'production').default('development'),
  PORT: Joi.number().port().default(8000),
  PUBLIC_BASE_URL: url(['http', 'https']),
  DATABASE_URL: url(['postgres', 'postgresql']),
  REDIS_URL: url(['redis', 'rediss']),
  REDIS_COMMAND_TIMEOUT_MS: int(50, 1000),
  REDIS_PREFIX: Joi.string()
    .pattern(/^[A-Za-z0-9_-]+$/)
    .default('nudge'),
  JWT_SECRET: Joi.string().min(32),
  SEARCH_HASH_KEY: Joi.string().min(32),
  ACCESS_TOKEN_TTL_SECONDS: int(1, 900),
  REFRESH_TOKEN_TTL_DAYS: int(1, 30),
  BCRYPT_COST: Joi.number().integer().min(4).max(15),
  ADMIN_EMAIL: Joi.string().email({ tlds: false }),
  ADMIN_PASSWORD: Joi.string().min(8),
  ADMIN_DOB: Joi.string().pattern(/^\d{4}-\d{2}-\d{2}$/),
  ENCRYPTION_KEYS: Joi.string(),
  ENCRYPTION_ACTIVE_KEY: Joi.string().pattern(/^v\d+$/),
  CORS_ORIGINS: Joi.array().items(
    Joi.string()
      .invalid('*')
      .uri({ scheme: ['http', 'https'] }),
  ),
  ALLOWED_HOSTS: list(),
  TRUSTED_PROXIES: list(),
  STRICT_VALIDATION: bool().default(true),
  RATE_LIMIT_LOGIN_FAILURES: int(1, 10),
  RATE_LIMIT_LOGIN_IP_PER_DAY: int(1, 100),
  RATE_LIMIT_REGISTER_PER_HOUR: int(1, 10),
  RATE_LIMIT_FORGOT_PER_HOUR: int(1, 5),
  RATE_LIMIT_RESET_PER_HOUR: int(1, 20),
  RATE_LIMIT_PASSWORD_CHECK_FAILURES: int(1, 5),
  RATE_LIMIT_ACCOUNT_FAILURES: int(1, 20),
  ACCOUNT_BRAKE_BASE_SECONDS: int(1, 1),
  ACCOUNT_BRAKE_MAX_SECONDS: int(1, 30),
  LOGIN_LOCKOUT_BASE_SECONDS: int(1, 60),
  RESET_COOLDOWN_SECONDS: int(1, 60),
  SLACK_WEBHOOK_HOSTS: list().default(['hooks.slack.com']),
  SLACK_TIMEOUT_MS: int(1, 10000),
  EMAIL_TIMEOUT_MS: int(1, 10000),
  SENDGRID_API_KEY: Joi.string(),
  SENDGRID_API_URL: url(['http', 'https']),
  SENDGRID_WEBHOOK_PUBLIC_KEY: Joi.string(),
  EMAIL_FROM: Joi.string().email({ tlds: false }),
  SMTP_URL: url(['smtp', 'smtps']),
  TWILIO_ACCOUNT_SID: Joi.string(),
  TWILIO_AUTH_TOKEN: Joi.string(),
  TWILIO_API_URL: url(['http', 'https']),
  TWILIO_SMS_FROM: Joi.string(),
  TWILIO_WHATSAPP_FROM: Joi.string(),
  USE_PLATFORM_CREDENTIALS: bool().default(true),
  DISPATCH_MAX_ATTEMPTS: int(1, 5),
  DISPATCH_BACKOFF_BASE_MS: int(1, 1000),
  DISPATCH_EMAIL_CONCURRENCY: int(1, 10),
  DISPATCH_SMS_CONCURRENCY: int(1, 10),
  DISPATCH_WHATSAPP_CONCURRENCY: int(1, 10),
  DISPATCH_SLACK_CONCURRENCY: int(1, 10),
  DISPATCH_EMAIL_RATE_PER_SECOND: int(0, 0),
  DISPATCH_SMS_RATE_PER_SECOND: int(0, 0),
  DISPATCH_WHATSAPP_RATE_PER_SECOND: int(0, 0),
  DISPATCH_SLACK_RATE_PER_SECOND: int(0, 0),
  STRIPE_SECRET_KEY: Joi.string(),
  STRIPE_API_URL: url(['http', 'https']),
  STRIPE_WEBHOOK_SECRET: Joi.string(),
  STRIPE_CONNECT_WEBHOOK_SECRET: Joi.string(),
  STRIPE_TIMEOUT_MS: int(1, 10000),
  // Stripe fills in {CHECKOUT_SESSION_ID}; braces are no URI characters, so the URL is checked with it filled in.
  PAYMENT_SUCCESS_URL: Joi.string().custom((v: string, helpers) => {
    const filled = v.replaceAll('{CHECKOUT_SESSION_ID}', 'cs_placeholder');
    return url(['http', 'https']).validate(filled).error ? helpers.error('string.uri') : v;
  }),
  PAYMENT_CANCEL_URL: url(['http', 'https']),
  BIRTHDAY_SCAN_INTERVAL_SECONDS: int(1, 300),
  REMINDER_SCAN_INTERVAL_SECONDS: int(1, 60),
  RECLAIM_AFTER_SECONDS: int(1, 120),
  DASHBOARD_ROLLUP_INTERVAL_SECONDS: int(1, 300),
  WORKER_LOCK_SECONDS: int(1, 30),
  REMINDER_SEND_NOW_PER_MINUTE: int(1, 10),
  INVITE_TTL_HOURS: int(1, 168),
  RESET_PASSWORD_URL: url(['http', 'https']),
  HASH_POOL_MAX_QUEUE: int(0, 50),
  DB_STATEMENT_TIMEOUT_MS: int(0, 10000),
  DB_ACQUIRE_TIMEOUT_MS: int(100, 1000),
  KEY_ROTATION_BATCH_SIZE: int(1, 500),
  METRICS_TOKEN: Joi.string().min(16),
  METRICS_PORT_BIRTHDAYS: Joi.number().port(),
  METRICS_PORT_REMINDERS: Joi.number().port(),
  METRICS_PORT_BILLING: Joi.number().port(),
  QUEUE_STUCK_SECONDS: int(1, 300),
  LOG_LEVEL: Joi.string().valid('error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly').default('info'),
  LOG_DIR: Joi.string(),
}).prefs({ convert: true });
