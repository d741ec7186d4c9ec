// A load of HTTP requests whose every outcome is kept, for the fault suite: autocannon counts errors, but the fault
// tests must say when each answer came, what it was, and which requests were refused (never accepted) rather than
// reset (accepted, then cut). Each client is one keep-alive connection, sending its next request as soon as the
// previous one ends.
import http from 'node:http';

export interface Outcome {
  path: string;
  /** Milliseconds since the epoch at the request's start and end. */
  start: number;
  end: number;
  status?: number;
  /** The answer was JSON. */
  json?: boolean;
  /** The body's `code`, when it has one. */
  code?: string;
  /** The socket error: ECONNREFUSED (never accepted), ECONNRESET or socket hang up (cut). */
  error?: string;
}

export interface Load {
  outcomes: Outcome[];
  /** Stops sending; resolves once every client's request in flight has ended. */
  stop: () => Promise<void>;
}

/** Whether an outcome is a request the server accepted and then cut. */
export const wasReset = (o: Outcome): boolean => o.error !== undefined && o.error !== 'ECONNREFUSED';

function once(agent: http.Agent, base: URL, path: string, headers: Record<string, string>): Promise<Outcome> {
  const start = Date.now();
  return new Promise((resolve) => {
    const req = http.get({ host: base.hostname, port: base.port, path, headers, agent, timeout: 30_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        const json = /application\/json/.test(res.headers['content-type'] ?? '');
        let code: string | undefined;
        try {
          code = json ? (JSON.parse(body) as { code?: string }).code : undefined;
        } catch {
          // an empty or cut body: json says it was meant to be JSON
        }
        resolve({ path, start, end: Date.now(), status: res.statusCode, json, code });
      });
      res.on('error', (err: NodeJS.ErrnoException) =>
        resolve({ path, start, end: Date.now(), error: err.code ?? err.message }),
      );
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) =>
      resolve({ path, start, end: Date.now(), error: err.code ?? err.message }),
    );
  });
}

/**
 * `clients` loops against `base`, client i asking `paths[i % paths.length]`. A client stops at the first refused
 * connection when `stopWhenRefused` (the server is gone), otherwise it keeps trying every 20 ms.
 */
export function startLoad(
  base: string,
  {
    clients,
    paths,
    headers = {},
    stopWhenRefused = false,
  }: { clients: number; paths: string[]; headers?: Record<string, string>; stopWhenRefused?: boolean },
): Load {
  const url = new URL(base);
  const outcomes: Outcome[] = [];
  let running = true;
  const loops = Array.from({ length: clients }, async (_, i) => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const path = paths[i % paths.length] as string;
    while (running) {
      const o = await once(agent, url, path, headers);
      outcomes.push(o);
      if (o.error === 'ECONNREFUSED') {
        if (stopWhenRefused) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    }
    agent.destroy();
  });
  return {
    outcomes,
    stop: async () => {
      running = false;
      await Promise.all(loops);
    },
  };
}
