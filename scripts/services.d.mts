// Types of the parts of services.mjs that TypeScript code imports (test/support/private-services.ts).
export interface PrivatePostgres {
  host: string;
  port: number;
  dir: string;
  url: string;
}
export interface PrivateRedis {
  host: string;
  port: number;
  dir: string;
  url: string;
}
type Log = (msg: string) => void;

export function startPostgres(options?: { production?: boolean; log?: Log }): Promise<PrivatePostgres>;
export function stopPostgres(
  pg: PrivatePostgres,
  log?: Log,
  options?: { mode?: 'smart' | 'fast' | 'immediate'; keep?: boolean },
): Promise<void>;
export function resumePostgres(pg: PrivatePostgres, log?: Log): Promise<void>;
export function startRedis(options?: { production?: boolean; log?: Log }): Promise<PrivateRedis>;
export function stopRedis(redis: PrivateRedis, log?: Log, options?: { keep?: boolean }): Promise<void>;
export function resumeRedis(redis: PrivateRedis, log?: Log): Promise<void>;
export function redisConnect(
  url: string,
  options?: { timeout?: number },
): Promise<{ command(...args: (string | number | Buffer)[]): Promise<unknown>; close(): void }>;
export function createDatabase(databaseUrl: string, name: string): Promise<boolean>;
export function withDatabase(url: string, name: string): string;
