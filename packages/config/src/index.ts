// The one place that reads process.env. Every variable is loaded once, validated with joi and handed out typed.
import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import type Joi from 'joi';
import { schema, LIST_VARIABLES, type RawEnv } from './schema';
import { loadTimezones } from './timezones';

export { isTimezone, timezones } from './timezones';
export { loadTimezones };

export type Environment = 'development' | 'test' | 'production';

/** The channels with a dispatch queue of their own. */
export type DispatchChannel = 'email' | 'sms' | 'whatsapp' | 'slack';
const DISPATCH_CHANNELS: readonly DispatchChannel[] = ['email', 'sms', 'whatsapp', 'slack'];

export interface Config {
  env: Environment;
  isProduction: boolean;
  rootDir: string;
  port: number;
  publicBaseUrl: string;
  databaseUrl: string;
  redisUrl: string;
  redisPrefix: string;
  /** How long the API's (and producers') Redis commands may take before failing; never a BullMQ worker's. */
  redisCommandTimeoutMs: number;
  jwtSecret: string;
  /** The HMAC-SHA256 key of searchable hashes of encrypted values (clients' phone numbers). */
  searchHashKey: string;
  accessTokenTtlSeconds: number;
  refreshTokenTtlDays: number;
  bcryptCost: number;
  admin: { email: string; password: string | undefined; dob: string };
  encryption: { keys: Map<string, Buffer>; activeKey: string };
  corsOrigins: string[];
  allowedHosts: string[];
  trustedProxies: string[];
  strictValidation: boolean;
  rateLimits: {
    loginFailures: number;
    loginIpPerDay: number;
    registerPerHour: number;
    forgotPerHour: number;
    /** POST /auth/reset-password attempts per client address (IPv6 by /64) per hour. */
    resetPerHour: number;
    /** Wrong `current_password`s per user in 15 minutes before PATCH /users/me answers 429. */
    passwordCheckFailures: number;
    /** Failed logins per account (from any address) in an hour before the account brake slows further attempts. */
    accountFailures: number;
    /** The account brake's first delay, doubled with each further failure. */
    accountBrakeBaseSeconds: number;
    /** The account brake's longest delay between two evaluated attempts. */
    accountBrakeMaxSeconds: number;
    lockoutBaseSeconds: number;
    /** At most one reset mail per account in this many seconds. */
    resetCooldownSeconds: number;
  };
  slackWebhookHosts: string[];
  slackTimeoutMs: number;
  sendgrid: { apiKey: string | undefined; apiUrl: string | undefined; webhookPublicKey: string | undefined };
  emailFrom: string;
  /** Per-request timeout of the platform email (SendGrid, SMTP). */
  emailTimeoutMs: number;
  smtpUrl: string | undefined;
  twilio: {
    accountSid: string | undefined;
    authToken: string | undefined;
    apiUrl: string | undefined;
    smsFrom: string | undefined;
    whatsappFrom: string | undefined;
  };
  usePlatformCredentials: boolean;
  /**
   * Each dispatch queue's worker concurrency and rate limit (sends per second, 0: none), tries per job, and the first
   * retry's delay (doubled for each later one) when the provider gave no Retry-After.
   */
  dispatch: { maxAttempts: number; backoffBaseMs: number } & Record<
    DispatchChannel,
    { concurrency: number; ratePerSecond: number }
  >;
  stripe: {
    secretKey: string | undefined;
    apiUrl: string | undefined;
    webhookSecret: string | undefined;
    /** The signing secret of the Connect webhook endpoint, when Connect events come to it. */
    connectWebhookSecret: string | undefined;
    /** Per-request timeout of Stripe calls; the API's Connect onboarding answers 503 after it. */
    timeoutMs: number;
    successUrl: string;
    cancelUrl: string;
  };
  birthdayScanIntervalSeconds: number;
  reminderScanIntervalSeconds: number;
  reclaimAfterSeconds: number;
  /**
   * How often the reminders process rolls reminder notifications up per day for the dashboard. The dashboard stays
   * exact whatever it is; the longer, the more recently changed days it counts from the live rows.
   */
  dashboardRollupIntervalSeconds: number;
  /**
   * A worker's lock on an active job (BullMQ lockDuration, renewed every half of it) and how often workers look for
   * jobs whose lock ran out (stalledInterval): a job a dead worker held runs again within about twice this.
   */
  workerLockSeconds: number;
  /** POST /reminders/{id}/send-now calls per workspace per minute. */
  reminderSendNowPerMinute: number;
  inviteTtlHours: number;
  resetPasswordUrl: string;
  hashPoolMaxQueue: number;
  /** PostgreSQL's statement_timeout for the processes' pools (0: none); migrations run without one. */
  dbStatementTimeoutMs: number;
  /** How long a query waits for a pooled connection, or for a new one to connect, before it fails. */
  dbAcquireTimeoutMs: number;
  keyRotationBatchSize: number;
  /** The Bearer token GET /metrics needs in production (required there); outside production /metrics is public. */
  metricsToken: string | undefined;
  /** The port each worker process serves its own /metrics and /health on; none when unset. */
  metricsPorts: Record<'birthdays' | 'reminders' | 'billing', number | undefined>;
  /** A queue with waiting jobs and no completion for longer than this is stuck (a warning, queue_stuck 1). */
  queueStuckSeconds: number;
  logLevel: string;
  logDir: string;
  /** Warnings found while loading (relaxed validation); logged by whoever has a logger. */
  warnings: string[];
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const SECRETS_FILE = path.join('.nudge', 'secrets.env');

/** BCRYPT_COST when unset in production; the login bench measures at this cost. */
export const PRODUCTION_BCRYPT_COST = 12;

function readEnvFile(file: string): Record<string, string> {
  try {
    return dotenv.parse(fs.readFileSync(file));
  } catch {
    return {};
  }
}

/**
 * Builds the configuration from a plain environment map. Pure apart from reading `.env` and `.nudge/secrets.env`
 * under rootDir, so tests can call it with any map they like.
 */
export function loadConfig(source: RawEnv = process.env, rootDir: string = process.cwd()): Config {
  // The real environment wins over .env; generated development secrets fill only what is still missing.
  const merged: RawEnv = { ...readEnvFile(path.join(rootDir, '.env')), ...source };
  if ((merged.ENV ?? 'development') !== 'production') {
    for (const [k, v] of Object.entries(readEnvFile(path.join(rootDir, SECRETS_FILE)))) {
      if (merged[k] === undefined || merged[k] === '') merged[k] = v;
    }
  }
  // Empty strings mean "unset", as in most .env files.
  const cleaned: RawEnv = {};
  for (const [k, v] of Object.entries(merged)) if (v !== undefined && v !== '') cleaned[k] = v;

  // Lists are comma-separated in the environment.
  const input: Record<string, unknown> = { ...cleaned };
  for (const name of LIST_VARIABLES) {
    const raw = cleaned[name];
    if (raw !== undefined)
      input[name] = raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
  }
  const result: Joi.ValidationResult<unknown> = schema.validate(input, {
    abortEarly: false,
    allowUnknown: true,
    stripUnknown: false,
  });
  const value: unknown = result.value;
  const error = result.error;
  const problems = error ? error.details.map((d) => d.message) : [];
  const v = value as Record<string, unknown>;
  const env = (v.ENV as Environment | undefined) ?? 'development';
  const isProduction = env === 'production';
  const strict = isProduction || v.STRICT_VALIDATION !== false;
  const warnings: string[] = [];

  // Credential formats: refused when strict, only warned about when relaxed.
  for (const [name, re] of CREDENTIAL_FORMATS) {
    const val = v[name];
    if (typeof val === 'string' && !re.test(val)) {
      const msg = `"${name}" does not match the expected format ${String(re)}`;
      if (strict) problems.push(msg);
      else warnings.push(msg);
    }
  }
  if (typeof v.SENDGRID_WEBHOOK_PUBLIC_KEY === 'string' && !isSpkiDer(v.SENDGRID_WEBHOOK_PUBLIC_KEY)) {
    const msg = '"SENDGRID_WEBHOOK_PUBLIC_KEY" must be base64 DER (SPKI), not PEM';
    if (strict) problems.push(msg);
    else warnings.push(msg);
  }

  const keys = new Map<string, Buffer>();
  if (typeof v.ENCRYPTION_KEYS === 'string') {
    for (const part of v.ENCRYPTION_KEYS.split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const m = /^(v\d+):(.+)$/.exec(part);
      const key = m?.[2] ? Buffer.from(m[2], 'base64') : undefined;
      if (!m?.[1] || key?.length !== 32)
        problems.push(`"ENCRYPTION_KEYS" entry "${part.slice(0, 4)}…" must be v<N>:<base64 of 32 bytes>`);
      else keys.set(m[1], key);
    }
  }
  const activeKey = (v.ENCRYPTION_ACTIVE_KEY as string | undefined) ?? [...keys.keys()].pop() ?? 'v1';
  if (keys.size > 0 && !keys.has(activeKey))
    problems.push(`"ENCRYPTION_ACTIVE_KEY" names ${activeKey}, which is not in ENCRYPTION_KEYS`);

  if (isProduction) {
    for (const name of [
      'JWT_SECRET',
      'ENCRYPTION_KEYS',
      'SEARCH_HASH_KEY',
      'DATABASE_URL',
      'REDIS_URL',
      'PUBLIC_BASE_URL',
      'METRICS_TOKEN',
    ]) {
      if (v[name] === undefined) problems.push(`"${name}" is required in production`);
    }
    // Settings that work but are unsafe: a cheap hash, and links or tokens that would travel in clear text.
    if (typeof v.BCRYPT_COST === 'number' && v.BCRYPT_COST < 10)
      problems.push('"BCRYPT_COST" must be at least 10 in production');
    // A channel that would fall back to the platform's credentials must have them: the sandbox is for development.
    if (v.USE_PLATFORM_CREDENTIALS !== false) {
      const twilio = ['TWILIO_ACCOUNT_SID', 'TWILIO_AUTH_TOKEN'];
      for (const [channel, names] of [
        ['SMS', [...twilio, 'TWILIO_SMS_FROM']],
        ['WhatsApp', [...twilio, 'TWILIO_WHATSAPP_FROM']],
      ] as const) {
        const missing = names.filter((name) => v[name] === undefined);
        if (missing.length)
          problems.push(
            `${channel} has no platform credentials (${missing.join(', ')}) while USE_PLATFORM_CREDENTIALS is on in production`,
          );
      }
    }
    for (const name of ['PUBLIC_BASE_URL', 'RESET_PASSWORD_URL']) {
      const url = v[name];
      if (typeof url === 'string' && !/^https:\/\//i.test(url))
        problems.push(`"${name}" must be an https:// URL in production`);
    }
  } else {
    for (const name of ['JWT_SECRET', 'ENCRYPTION_KEYS', 'SEARCH_HASH_KEY']) {
      if (v[name] === undefined)
        problems.push(`"${name}" is missing: run npm start once to generate ${SECRETS_FILE}, or set it`);
    }
  }
  if (problems.length) throw new ConfigError(problems);

  const port = v.PORT as number;
  const publicBaseUrl = ((v.PUBLIC_BASE_URL as string | undefined) ?? `http://127.0.0.1:${port}`).replace(/\/+$/, '');
  const list = (name: string): string[] => (v[name] as string[] | undefined) ?? [];
  const str = (name: string): string | undefined => v[name] as string | undefined;
  const num = (name: string): number => v[name] as number;

  return {
    env,
    isProduction,
    rootDir,
    port,
    publicBaseUrl,
    databaseUrl: str('DATABASE_URL') ?? 'postgres://postgres@127.0.0.1:5432/nudge',
    redisUrl: str('REDIS_URL') ?? 'redis://127.0.0.1:6379',
    redisPrefix: str('REDIS_PREFIX') ?? 'nudge',
    redisCommandTimeoutMs: num('REDIS_COMMAND_TIMEOUT_MS'),
    jwtSecret: str('JWT_SECRET') ?? '',
    searchHashKey: str('SEARCH_HASH_KEY') ?? '',
    accessTokenTtlSeconds: num('ACCESS_TOKEN_TTL_SECONDS'),
    refreshTokenTtlDays: num('REFRESH_TOKEN_TTL_DAYS'),
    bcryptCost:
      (v.BCRYPT_COST as number | undefined) ?? (isProduction ? PRODUCTION_BCRYPT_COST : env === 'test' ? 4 : 10),
    admin: {
      email: str('ADMIN_EMAIL') ?? 'admin@example.com',
      password: str('ADMIN_PASSWORD'),
      dob: str('ADMIN_DOB') ?? '1990-01-01',
    },
    encryption: { keys, activeKey },
    corsOrigins: list('CORS_ORIGINS'),
    allowedHosts: list('ALLOWED_HOSTS'),
    trustedProxies: list('TRUSTED_PROXIES'),
    strictValidation: strict,
    rateLimits: {
      loginFailures: num('RATE_LIMIT_LOGIN_FAILURES'),
      loginIpPerDay: num('RATE_LIMIT_LOGIN_IP_PER_DAY'),
      registerPerHour: num('RATE_LIMIT_REGISTER_PER_HOUR'),
      forgotPerHour: num('RATE_LIMIT_FORGOT_PER_HOUR'),
      resetPerHour: num('RATE_LIMIT_RESET_PER_HOUR'),
      passwordCheckFailures: num('RATE_LIMIT_PASSWORD_CHECK_FAILURES'),
      accountFailures: num('RATE_LIMIT_ACCOUNT_FAILURES'),
      accountBrakeBaseSeconds: num('ACCOUNT_BRAKE_BASE_SECONDS'),
      accountBrakeMaxSeconds: num('ACCOUNT_BRAKE_MAX_SECONDS'),
      lockoutBaseSeconds: num('LOGIN_LOCKOUT_BASE_SECONDS'),
      resetCooldownSeconds: num('RESET_COOLDOWN_SECONDS'),
    },
    slackWebhookHosts: list('SLACK_WEBHOOK_HOSTS'),
    slackTimeoutMs: num('SLACK_TIMEOUT_MS'),
    sendgrid: {
      apiKey: str('SENDGRID_API_KEY'),
      apiUrl: str('SENDGRID_API_URL'),
      webhookPublicKey: str('SENDGRID_WEBHOOK_PUBLIC_KEY'),
    },
    emailFrom: str('EMAIL_FROM') ?? 'noreply@nudge.local',
    emailTimeoutMs: num('EMAIL_TIMEOUT_MS'),
    smtpUrl: str('SMTP_URL'),
    twilio: {
      accountSid: str('TWILIO_ACCOUNT_SID'),
      authToken: str('TWILIO_AUTH_TOKEN'),
      apiUrl: str('TWILIO_API_URL'),
      smsFrom: str('TWILIO_SMS_FROM'),
      whatsappFrom: str('TWILIO_WHATSAPP_FROM'),
    },
    usePlatformCredentials: v.USE_PLATFORM_CREDENTIALS as boolean,
    dispatch: {
      maxAttempts: num('DISPATCH_MAX_ATTEMPTS'),
      backoffBaseMs: num('DISPATCH_BACKOFF_BASE_MS'),
      ...(Object.fromEntries(
        DISPATCH_CHANNELS.map((c) => [
          c,
          {
            concurrency: num(`DISPATCH_${c.toUpperCase()}_CONCURRENCY`),
            ratePerSecond: num(`DISPATCH_${c.toUpperCase()}_RATE_PER_SECOND`),
          },
        ]),
      ) as Record<DispatchChannel, { concurrency: number; ratePerSecond: number }>),
    },
    stripe: {
      secretKey: str('STRIPE_SECRET_KEY'),
      apiUrl: str('STRIPE_API_URL'),
      webhookSecret: str('STRIPE_WEBHOOK_SECRET'),
      connectWebhookSecret: str('STRIPE_CONNECT_WEBHOOK_SECRET'),
      timeoutMs: num('STRIPE_TIMEOUT_MS'),
      successUrl: str('PAYMENT_SUCCESS_URL') ?? `${publicBaseUrl}/pay/success?session_id={CHECKOUT_SESSION_ID}`,
      cancelUrl: str('PAYMENT_CANCEL_URL') ?? `${publicBaseUrl}/pay/cancel`,
    },
    birthdayScanIntervalSeconds: num('BIRTHDAY_SCAN_INTERVAL_SECONDS'),
    reminderScanIntervalSeconds: num('REMINDER_SCAN_INTERVAL_SECONDS'),
    reclaimAfterSeconds: num('RECLAIM_AFTER_SECONDS'),
    dashboardRollupIntervalSeconds: num('DASHBOARD_ROLLUP_INTERVAL_SECONDS'),
    workerLockSeconds: num('WORKER_LOCK_SECONDS'),
    reminderSendNowPerMinute: num('REMINDER_SEND_NOW_PER_MINUTE'),
    inviteTtlHours: num('INVITE_TTL_HOURS'),
    resetPasswordUrl: str('RESET_PASSWORD_URL') ?? `${publicBaseUrl}/reset-password`,
    hashPoolMaxQueue: num('HASH_POOL_MAX_QUEUE'),
    dbStatementTimeoutMs: num('DB_STATEMENT_TIMEOUT_MS'),
    dbAcquireTimeoutMs: num('DB_ACQUIRE_TIMEOUT_MS'),
    keyRotationBatchSize: num('KEY_ROTATION_BATCH_SIZE'),
    metricsToken: str('METRICS_TOKEN'),
    metricsPorts: {
      birthdays: v.METRICS_PORT_BIRTHDAYS as number | undefined,
      reminders: v.METRICS_PORT_REMINDERS as number | undefined,
      billing: v.METRICS_PORT_BILLING as number | undefined,
    },
    queueStuckSeconds: num('QUEUE_STUCK_SECONDS'),
    logLevel: str('LOG_LEVEL') ?? 'info',
    logDir: path.resolve(rootDir, str('LOG_DIR') ?? 'logs'),
    warnings,
  };
}

/** The formats of provider credentials, by variable name; a workspace's own channel account is checked by the same. */
export const CREDENTIAL_FORMATS: readonly (readonly [string, RegExp])[] = [
  ['SENDGRID_API_KEY', /^SG\.[\w-]+\.[\w-]+$/],
  ['TWILIO_ACCOUNT_SID', /^AC[0-9a-fA-F]{32}$/],
  ['TWILIO_AUTH_TOKEN', /^[0-9a-fA-F]{32}$/],
  ['STRIPE_SECRET_KEY', /^[sr]k_(test|live)_\S+$/],
  ['STRIPE_WEBHOOK_SECRET', /^whsec_\S+$/],
  ['STRIPE_CONNECT_WEBHOOK_SECRET', /^whsec_\S+$/],
  ['TWILIO_SMS_FROM', /^\+[1-9]\d{6,14}$/],
  ['TWILIO_WHATSAPP_FROM', /^\+[1-9]\d{6,14}$/],
];

/** Whether a credential has the format its variable expects (true for a name without a known format). */
export function credentialFormatOk(name: string, value: string): boolean {
  const re = CREDENTIAL_FORMATS.find(([n]) => n === name)?.[1];
  return !re || re.test(value);
}

function isSpkiDer(b64: string): boolean {
  if (b64.includes('-----BEGIN')) return false;
  try {
    // crypto is imported lazily so this module stays cheap for scripts that only read config.
    const key = Buffer.from(b64, 'base64');
    return key.length > 0 && key[0] === 0x30;
  } catch {
    return false;
  }
}

let cached: Config | undefined;

/** The process-wide configuration, loaded on first use. */
export function getConfig(): Config {
  cached ??= loadConfig();
  return cached;
}

/**
 * Loads the configuration for a process entry point: on failure it prints one message naming every bad variable
 * and exits non-zero, rather than letting a half-configured process start.
 */
export function loadConfigOrExit(): Config {
  try {
    return getConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
}
