// A fake Slack incoming-webhook host: any /services/... path takes a JSON POST and answers 200 `ok`, or the error a
// real hook gives, per path or for all paths, standing or for the next N posts.
import crypto from 'node:crypto';
import {
  faultReply,
  retryAfterHeader,
  startHttpFake,
  type FakeMode,
  type FakeRequest,
  type Fault,
  type Reply,
} from './http-fake';

/**
 * A Slack behaviour: `ok`, `hang`, `reset`, or a status, answered with Slack's body for it (429 `rate_limited` with
 * Retry-After, 500, 503, 404 `no_service`, 410 `channel_is_archived`, 400 `invalid_payload`, 403 `action_prohibited`,
 * 302 to another path on this fake), or `{ status, retryAfterSeconds?, body? }` to override.
 */
export type SlackMode = FakeMode;

export interface FakeSlack {
  url: string;
  port: number;
  /** Every request (method, path, parsed JSON body, headers, answer, time), including hits on the redirect target. */
  requests: FakeRequest[];
  /** Where a 302 points; a client that follows redirects shows up here. */
  redirectPath: string;
  /** A new, unique Slack-shaped hook URL on this fake: `/services/T…/B…/<secret>`. */
  webhookUrl: (team?: string) => string;
  /** Requests to one hook path (or full URL). */
  requestsTo: (hook: string) => FakeRequest[];
  /** Standing behaviour for one hook (path or URL), or for all when `hook` is omitted. */
  setMode: (mode: SlackMode, hook?: string) => void;
  /** Behaviour for the next `times` posts to `hook` (or to any hook), before the standing mode applies again. */
  inject: (mode: Fault, times?: number, hook?: string) => void;
  reset: () => void;
  close: () => Promise<void>;
}

const SLACK_BODIES: Record<number, string> = {
  400: 'invalid_payload',
  403: 'action_prohibited',
  404: 'no_service',
  410: 'channel_is_archived',
  429: 'rate_limited',
  500: 'internal_error',
  503: 'service_unavailable',
};

const REDIRECT_PATH = '/redirected/elsewhere';

const alnum = (n: number, upper = true): string => {
  const chars = upper
    ? 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'
    : 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  return Array.from(crypto.randomBytes(n), (b) => chars[b % chars.length]).join('');
};

const pathOf = (hook: string): string => (hook.startsWith('/') ? hook : new URL(hook).pathname);

export async function startFakeSlack(): Promise<FakeSlack> {
  const http = await startHttpFake(
    ({ req, baseUrl, path, raw, body, fault }): Reply => {
      if (path === REDIRECT_PATH) return { status: 200, body: 'ok' };
      if (!path.startsWith('/services/') || req.method !== 'POST') return { status: 404, body: 'no_service' };
      if (fault !== undefined && fault !== 'hang' && fault !== 'reset') {
        const f = faultReply(fault);
        if (f.status >= 300 && f.status < 400)
          return {
            status: f.status,
            headers: { location: `${baseUrl}${REDIRECT_PATH}`, ...f.headers },
            body: f.body ?? '',
          };
        const retry = f.status === 429 ? (f.retryAfterSeconds ?? 1) : f.retryAfterSeconds;
        return {
          status: f.status,
          headers: { ...retryAfterHeader(retry), ...f.headers },
          body: f.body ?? SLACK_BODIES[f.status] ?? 'error',
        };
      }
      // What Slack itself refuses, whatever the mode.
      if (body === undefined || typeof body !== 'object' || body === null || !raw)
        return { status: 400, body: 'invalid_payload' };
      const payload = body as { text?: unknown; blocks?: unknown; attachments?: unknown };
      if (!payload.text && !payload.blocks && !payload.attachments) return { status: 400, body: 'no_text' };
      return { status: 200, body: 'ok' };
    },
    { scopeOf: (path) => path },
  );
  return {
    url: http.url,
    port: http.port,
    requests: http.requests,
    redirectPath: REDIRECT_PATH,
    webhookUrl(team) {
      // `T0ACME`, `acme` and `tacme` all become a valid team id; without one, a random team.
      const t =
        (team ?? '')
          .toUpperCase()
          .replace(/[^A-Z0-9]/g, '')
          .replace(/^T/, '') || alnum(8);
      return `${http.url}/services/T${t}/B${alnum(10)}/${alnum(24, false)}`;
    },
    requestsTo: (hook) => http.requests.filter((r) => r.path === pathOf(hook)),
    setMode: (mode, hook) => http.plan.setMode(mode, hook === undefined ? undefined : pathOf(hook)),
    inject: (mode, times = 1, hook) => http.plan.inject(mode, times, hook === undefined ? undefined : pathOf(hook)),
    reset: http.reset,
    close: http.close,
  };
}
