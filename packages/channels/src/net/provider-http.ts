// The HTTP transport under the SendGrid and Twilio SDKs: undici, through the hook each SDK offers for it (SendGrid's
// MailService.setClient, Twilio's httpClient option), while the SDKs still build every request and read every
// answer. Both SDKs bundle axios, whose per-request configuration merging cost about 220 µs of CPU per send on this
// 2-core machine against about 40 µs for the same request through undici (bench/dispatch.ts), and a dispatch worker
// makes one request per message. One transport owns its keep-alive connections (per origin) and closes them.
import { Agent } from 'undici';

export interface ProviderHttpOptions {
  /** How long a request may wait for the answer's headers, then for its body, once sent (and to connect). */
  timeoutMs: number;
  /** Connections per origin at most (100): the dispatch queues' concurrent sends must not queue for one. */
  connections?: number;
}

export interface ProviderHttpRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body?: string;
}

export interface ProviderHttpResponse {
  status: number;
  /** Header names in lower case; a repeated header's values joined with `, `. */
  headers: Record<string, string>;
  text: string;
}

export class ProviderHttp {
  private readonly agent: Agent;

  constructor(options: ProviderHttpOptions) {
    this.agent = new Agent({
      connections: options.connections ?? 100,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      connect: { timeout: options.timeoutMs },
    });
  }

  /**
   * Sends one request and reads its whole answer, whatever its status. A request that gets no answer (refused,
   * reset, timed out) rejects with undici's error, whose `code` providerErrorFromNetwork knows.
   */
  async request(req: ProviderHttpRequest): Promise<ProviderHttpResponse> {
    const url = new URL(req.url);
    const res = await this.agent.request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: req.method,
      headers: req.headers,
      ...(req.body !== undefined ? { body: req.body } : {}),
    });
    const text = await res.body.text();
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(res.headers))
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    return { status: res.statusCode, headers, text };
  }

  /** Ends the kept-alive connections; requests in flight are cut. */
  async close(): Promise<void> {
    await this.agent.destroy();
  }
}
