// winston, configured once per process: console always, a file per run in development and test, JSON on stdout
// in production. Every line carries the request or job it was logged in, and nothing secret.
import fs from 'node:fs';
import path from 'node:path';
import { AsyncLocalStorage } from 'node:async_hooks';
import winston from 'winston';
import { getConfig, type Config } from '@nudge/config';
import { redact, redactString } from './redact';

export { redact, redactString };
export type Logger = winston.Logger;

export interface LogContext {
  requestId?: string;
  jobId?: string;
  queue?: string;
}

const context = new AsyncLocalStorage<LogContext>();

/** Runs fn with a request or job id that every log line inside it will carry. */
export function withLogContext<T>(ctx: LogContext, fn: () => T): T {
  return context.run({ ...context.getStore(), ...ctx }, fn);
}

export function currentLogContext(): LogContext | undefined {
  return context.getStore();
}

const addContext = winston.format((info) => {
  const ctx = context.getStore();
  if (ctx) for (const [k, v] of Object.entries(ctx)) if (v !== undefined && info[k] === undefined) info[k] = v;
  return info;
});

const redactFormat = winston.format((info) => {
  const clean = redact(info);
  // winston keeps the final message under a symbol; rewrite it too if a format already produced it.
  const MESSAGE = Symbol.for('message');
  const final = (info as unknown as Record<symbol, unknown>)[MESSAGE];
  if (typeof final === 'string') (clean as unknown as Record<symbol, unknown>)[MESSAGE] = redactString(final);
  return clean;
});

function stamp(d = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}_${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}`;
}

const pretty = winston.format.printf((info) => {
  const { level, message, timestamp, role, requestId, jobId, ...rest } = info as Record<string, unknown>;
  const id = typeof requestId === 'string' ? ` req=${requestId}` : typeof jobId === 'string' ? ` job=${jobId}` : '';
  const extra = Object.keys(rest).length ? ` ${JSON.stringify(rest)}` : '';
  return `${String(timestamp)} ${String(level)} [${String(role)}]${id} ${String(message)}${extra}`;
});

export interface CreatedLogger extends winston.Logger {
  /** The file this run writes to, when there is one. */
  logFile?: string;
}

export function createLogger(role: string, config: Config = getConfig()): CreatedLogger {
  // winston runs the logger's formats on every line before its transports compare levels: without this first step, a
  // debug line at level warn was still redacted and stamped, and the API logs two such lines for every request.
  const atLevel = winston.format((info) => (logger.isLevelEnabled(info.level) ? info : false));
  const base = winston.format.combine(
    atLevel(),
    winston.format.errors({ stack: true }),
    addContext(),
    redactFormat(),
    winston.format.timestamp(),
  );
  const transports: winston.transport[] = [
    new winston.transports.Console({
      format: config.isProduction ? winston.format.json() : winston.format.combine(winston.format.colorize(), pretty),
    }),
  ];
  let logFile: string | undefined;
  if (!config.isProduction) {
    fs.mkdirSync(config.logDir, { recursive: true });
    logFile = path.join(config.logDir, `nudge_${role}_${stamp()}.log`);
    transports.push(new winston.transports.File({ filename: logFile, format: winston.format.json() }));
  }
  const logger = winston.createLogger({
    level: config.logLevel,
    defaultMeta: { role },
    format: base,
    transports,
  }) as CreatedLogger;
  logger.logFile = logFile;
  return logger;
}

let shared: CreatedLogger | undefined;
let sharedRole = 'app';

/** Names the process's role (web, birthdays, ...) before the first log line. */
export function setLogRole(role: string): void {
  sharedRole = role;
  shared = undefined;
}

/** The process-wide logger. */
export function getLogger(): CreatedLogger {
  shared ??= createLogger(sharedRole);
  return shared;
}

export const logger: winston.Logger = new Proxy({} as winston.Logger, {
  get(_t, prop: string | symbol) {
    const l = getLogger() as unknown as Record<string | symbol, unknown>;
    const v = l[prop];
    return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(l) : v;
  },
});
