// The one HTTP load generator of the benches: autocannon, firing from a worker thread so that a server in the
// bench's own process keeps the main thread. Every bench that puts HTTP load on a server goes through `loadTest`.
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  connections: number;
  seconds: number;
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  headers?: Record<string, string>;
  body?: string;
  /** Requests per second across every connection; unset, as fast as the server answers. A fixed rate makes a probe. */
  overallRate?: number;
  /** Seconds before a request counts as a timeout (autocannon's default is 10). */
  timeoutSeconds?: number;
  /** Fire from a worker thread (default). Off only where the caller already runs off the server's thread. */
  worker?: boolean;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  non2xx: number;
  /** How many answers had each status. */
  statuses: Record<string, number>;
  errors: number;
  timeouts: number;
  seconds: number;
}

export async function loadTest(opts: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections,
    duration: opts.seconds,
    method: opts.method ?? 'GET',
    headers: opts.headers,
    body: opts.body,
    // Only when set: autocannon merges its defaults with Object.assign, which an undefined would overwrite.
    ...(opts.overallRate ? { overallRate: opts.overallRate } : {}),
    ...(opts.timeoutSeconds ? { timeout: opts.timeoutSeconds } : {}),
    workers: opts.worker === false ? undefined : 1,
  });
  const r = (n: number) => Math.round(n * 100) / 100;
  const seconds = result.duration;
  return {
    requests: result.requests.total,
    rps: Math.round(result.requests.total / seconds),
    p50_ms: r(result.latency.p50),
    p99_ms: r(result.latency.p99),
    max_ms: r(result.latency.max),
    non2xx: result.non2xx,
    statuses: Object.fromEntries(
      Object.entries(result.statusCodeStats ?? {}).map(([status, stat]) => [status, stat.count ?? 0]),
    ),
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: r(seconds),
  };
}
