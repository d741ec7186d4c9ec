// Slack incoming webhooks: one JSON POST of `{"text": ...}`. The URL is a tenant's secret and a tenant-supplied
// outbound address, so it is checked against SLACK_WEBHOOK_HOSTS right before connecting (not only when saved),
// redirects are never followed, and neither the URL nor the text ever appears in an error.
import axios from 'axios';
import { getConfig, type Config } from '@nudge/config';
import {
  PermanentProviderError,
  providerErrorFromNetwork,
  providerErrorFromStatus,
  TransientProviderError,
  type ProviderError,
} from '../errors';
import { isLoopbackHost } from '../net/loopback';

export interface SlackWebhookPolicy {
  /** Host names a webhook may point at, matched exactly (any port). */
  allowedHosts: readonly string[];
  /** Outside production, plain http:// is allowed to a listed loopback host (the fake Slack in tests and demos). */
  allowInsecureLoopback: boolean;
}

export function slackWebhookPolicy(
  config: Pick<Config, 'slackWebhookHosts' | 'isProduction'> = getConfig(),
): SlackWebhookPolicy {
  return { allowedHosts: config.slackWebhookHosts, allowInsecureLoopback: !config.isProduction };
}

export type SlackWebhookUrlProblem = 'invalid_url' | 'https_required' | 'host_not_allowed';

/**
 * Why a webhook URL may not be used, or undefined when it may: https:// (or http:// to a listed loopback host
 * outside production), no credentials in the URL, and a host name that is exactly one of the allowed hosts.
 */
export function checkSlackWebhookUrl(
  url: string,
  policy: SlackWebhookPolicy = slackWebhookPolicy(),
): SlackWebhookUrlProblem | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'invalid_url';
  }
  if (u.username || u.password || (u.protocol !== 'https:' && u.protocol !== 'http:')) return 'invalid_url';
  const host = u.hostname.toLowerCase();
  if (!policy.allowedHosts.some((h) => h.toLowerCase() === host)) return 'host_not_allowed';
  if (u.protocol === 'http:' && !(policy.allowInsecureLoopback && isLoopbackHost(host))) return 'https_required';
  return undefined;
}

export interface SlackPostResult {
  status: number;
  durationMs: number;
}

export interface SlackWebhookAdapterOptions {
  /** Per-request timeout, connection included (SLACK_TIMEOUT_MS, 10 s). */
  timeoutMs?: number;
  policy?: SlackWebhookPolicy;
}

// Slack answers errors with a short snake_case code as the body (`no_service`, `channel_is_archived`).
const SLACK_CODE = /^[a-z][a-z0-9_]{0,63}$/;

export class SlackWebhookAdapter {
  readonly provider = 'slack' as const;
  private readonly timeoutMs: number;
  private readonly policy: SlackWebhookPolicy;

  constructor(options: SlackWebhookAdapterOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? getConfig().slackTimeoutMs;
    this.policy = options.policy ?? slackWebhookPolicy();
  }

  /**
   * Posts the text. Resolves on 200; throws a TransientProviderError for a 429 (with Retry-After), a 5xx, a timeout
   * or a connection failure, and a PermanentProviderError for anything else, its `code` being Slack's reason
   * (`no_service`, `channel_is_archived`...), `redirect_not_followed` for a 3xx, or the URL check's problem.
   */
  async post(webhookUrl: string, text: string): Promise<SlackPostResult> {
    const problem = checkSlackWebhookUrl(webhookUrl, this.policy);
    if (problem)
      throw new PermanentProviderError(`slack webhook URL refused: ${problem}`, { provider: 'slack', code: problem });

    const started = Date.now();
    let res: { status: number; data: unknown; headers: Record<string, unknown> };
    try {
      res = await axios.post(
        webhookUrl,
        { text },
        {
          headers: { 'content-type': 'application/json' },
          timeout: this.timeoutMs,
          // `timeout` covers the wait for an answer; the signal also bounds DNS and the TCP/TLS handshake.
          signal: AbortSignal.timeout(this.timeoutMs),
          maxRedirects: 0,
          // A proxy from the environment would decide where the request really goes, after our host check.
          proxy: false,
          validateStatus: () => true,
          responseType: 'text',
          transformResponse: [(d: unknown) => d],
          maxContentLength: 64 * 1024,
        },
      );
    } catch (err) {
      throw this.toNetworkError(err);
    }
    const durationMs = Date.now() - started;
    if (res.status >= 200 && res.status < 300) return { status: res.status, durationMs };
    throw this.toHttpError(res.status, typeof res.data === 'string' ? res.data.trim() : '', res.headers['retry-after']);
  }

  private toHttpError(status: number, body: string, retryAfter: unknown): ProviderError {
    if (status >= 300 && status < 400) {
      return new PermanentProviderError(`slack answered a redirect (${status}), which is not followed`, {
        provider: 'slack',
        code: 'redirect_not_followed',
        status,
      });
    }
    const slackCode = SLACK_CODE.test(body) ? body : undefined;
    const err = providerErrorFromStatus('slack', status, { retryAfter, detail: slackCode });
    if (err.transient) return err;
    return new PermanentProviderError(err.message, { provider: 'slack', code: slackCode ?? `http_${status}`, status });
  }

  private toNetworkError(err: unknown): ProviderError {
    return (
      providerErrorFromNetwork('slack', err) ??
      // An answerless failure of a kind we do not know (TLS, a protocol error): worth another try.
      new TransientProviderError('slack could not be reached', { provider: 'slack', code: 'network' })
    );
  }
}
