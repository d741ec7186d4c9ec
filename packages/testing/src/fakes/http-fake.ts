// The machinery every HTTP fake shares: a loopback server on a random port, a record of each request, scripted
// faults (for the next N requests, or until changed), and a close() that also ends connections left hanging.
import http from 'node:http';
import type { Socket } from 'node:net';

/**
 * What a fake does instead of its normal answer. A bare status uses the provider's own error body for that status;
 * `hang` reads the request and never answers; `reset` destroys the connection.
 */
export type Fault =
  | number
  | 'hang'
  | 'reset'
  | { status: number; retryAfterSeconds?: number; body?: unknown; headers?: Record<string, string> };

/**
 * A standing mode that draws each request's fault by share, the rest answered normally: `{ mix: [[500, 0.3],
 * ['hang', 0.1]] }` faults about 30% with a 500 and leaves 10% hanging (the fault suite's flaky provider).
 */
export interface FaultMix {
  mix: Array<[Fault, number]>;
  /** A number in [0, 1) per request (Math.random). */
  random?: () => number;
}

/** A fault, a mix of faults, or `ok` for the fake's normal behaviour. */
export type FakeMode = Fault | FaultMix | 'ok';

function isMix(mode: FakeMode): mode is FaultMix {
  return typeof mode === 'object' && 'mix' in mode;
}

/** The fault a mix draws for one request, or undefined for a normal answer. */
function draw({ mix, random = Math.random }: FaultMix): Fault | undefined {
  let r = random();
  for (const [fault, share] of mix) {
    if (r < share) return fault;
    r -= share;
  }
  return undefined;
}

export interface FakeRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** The raw body as received. */
  raw: string;
  /** JSON-parsed or form-decoded body, or undefined when it could not be parsed. */
  body: unknown;
  /** The status answered, or `hang` / `reset`. */
  outcome: number | 'hang' | 'reset';
  at: number;
  /** The client's port: two requests with the same one came over one kept-alive connection. */
  remotePort: number | undefined;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings as they are. */
  body?: unknown;
}

export interface FaultControls {
  /** Applies `fault` to the next `times` requests (queued after any already injected), then back to the mode. */
  inject: (fault: Fault, times?: number) => void;
  /** Applies `mode` to every request from now on, after the injected faults run out. */
  setMode: (mode: FakeMode) => void;
  /** Forgets recorded requests, injected faults and the mode. */
  reset: () => void;
}

export interface HttpFake extends FaultControls {
  url: string;
  port: number;
  requests: FakeRequest[];
  close: () => Promise<void>;
}

export interface HandlerContext {
  req: http.IncomingMessage;
  /** `http://127.0.0.1:<port>` of this fake, for URLs it hands out. */
  baseUrl: string;
  path: string;
  query: URLSearchParams;
  raw: string;
  body: unknown;
  /** The fault that applies to this request, if any; the handler turns a numeric one into a provider-shaped reply. */
  fault: Fault | undefined;
}

/** Fault routing key: handlers that scope faults (Slack per path) return a key; undefined means global only. */
export type ScopeOf = (path: string) => string | undefined;

interface Queued {
  fault: Fault;
  remaining: number;
  scope: string | undefined;
}

/** The queue of injected faults and the standing modes, global or per scope. */
export class FaultPlan {
  private queued: Queued[] = [];
  private modes = new Map<string | undefined, FakeMode>();

  inject(fault: Fault, times = 1, scope?: string): void {
    if (times > 0) this.queued.push({ fault, remaining: times, scope });
  }

  setMode(mode: FakeMode, scope?: string): void {
    this.modes.set(scope, mode);
  }

  reset(): void {
    this.queued = [];
    this.modes.clear();
  }

  /** Takes the fault for one request: a queued one for its scope or a global one first, then the standing mode. */
  take(scope: string | undefined): Fault | undefined {
    const i = this.queued.findIndex((q) => q.scope === undefined || q.scope === scope);
    if (i >= 0) {
      const q = this.queued[i]!;
      if (--q.remaining <= 0) this.queued.splice(i, 1);
      return q.fault;
    }
    const mode = (scope !== undefined ? this.modes.get(scope) : undefined) ?? this.modes.get(undefined) ?? 'ok';
    if (mode === 'ok') return undefined;
    return isMix(mode) ? draw(mode) : mode;
  }
}

function parseBody(raw: string, contentType: string | undefined): unknown {
  if (!raw) return undefined;
  if (contentType?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(raw));
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return undefined;
  }
}

/** Normalises a fault into status, Retry-After and an optional body override. */
export function faultReply(fault: Exclude<Fault, 'hang' | 'reset'>): {
  status: number;
  retryAfterSeconds?: number;
  body?: unknown;
  headers?: Record<string, string>;
} {
  return typeof fault === 'number' ? { status: fault } : fault;
}

/**
 * Starts a fake. `handle` answers one request (the fault, if any, is in the context); returning `hang` leaves the
 * request unanswered. `scopeOf` lets a fake scope faults by path.
 */
export async function startHttpFake(
  handle: (ctx: HandlerContext) => Reply | 'hang' | 'reset' | Promise<Reply | 'hang' | 'reset'>,
  { scopeOf }: { scopeOf?: ScopeOf } = {},
): Promise<HttpFake & { plan: FaultPlan }> {
  const sockets = new Set<Socket>();
  const plan = new FaultPlan();
  const requests: FakeRequest[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const u = new URL(req.url ?? '/', 'http://fake');
        const raw = Buffer.concat(chunks).toString('utf8');
        const body = parseBody(raw, req.headers['content-type']);
        const fault = plan.take(scopeOf?.(u.pathname));
        const record: FakeRequest = {
          method: req.method ?? 'GET',
          path: u.pathname,
          query: u.searchParams,
          headers: req.headers,
          raw,
          body,
          outcome: 'hang',
          at: Date.now(),
          remotePort: req.socket.remotePort,
        };
        requests.push(record);
        let reply: Reply | 'hang' | 'reset';
        try {
          reply =
            fault === 'hang' || fault === 'reset'
              ? fault
              : await handle({
                  req,
                  baseUrl: `http://127.0.0.1:${req.socket.localPort}`,
                  path: u.pathname,
                  query: u.searchParams,
                  raw,
                  body,
                  fault,
                });
        } catch (err) {
          reply = { status: 500, body: { error: err instanceof Error ? err.message : String(err) } };
        }
        if (reply === 'hang') return;
        if (reply === 'reset') {
          record.outcome = 'reset';
          req.socket.destroy();
          return;
        }
        record.outcome = reply.status;
        const isJson = reply.body !== undefined && typeof reply.body !== 'string';
        const payload = reply.body === undefined ? '' : isJson ? JSON.stringify(reply.body) : (reply.body as string);
        const headers: Record<string, string> = {
          ...(isJson
            ? { 'content-type': 'application/json' }
            : reply.body !== undefined
              ? { 'content-type': 'text/plain; charset=utf-8' }
              : {}),
          ...reply.headers,
        };
        res.writeHead(reply.status, headers);
        res.end(payload);
      })();
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    plan,
    inject: (fault, times = 1) => plan.inject(fault, times),
    setMode: (mode) => plan.setMode(mode),
    reset: () => {
      plan.reset();
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Retry-After (seconds) as a header map, when the fault asks for one. */
export function retryAfterHeader(seconds: number | undefined): Record<string, string> {
  return seconds === undefined ? {} : { 'retry-after': String(seconds) };
}
