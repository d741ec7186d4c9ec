// Transport rules, applied before anything reads a body: which proxies are trusted, security headers, the
// trusted-host check, HTTPS, CORS, and no caching of auth answers. ENV switches them:
//
//   every environment: helmet's headers; CORS for CORS_ORIGINS only; Cache-Control: no-store under /auth; the host
//     check when ALLOWED_HOSTS is set.
//   production only: HSTS and a CSP; the host check always (ALLOWED_HOSTS, or else PUBLIC_BASE_URL's host); plain
//     HTTP redirected to HTTPS for the browser pages and refused with 403 HTTPS_REQUIRED elsewhere.
//
// /health and /ready escape the host and HTTPS rules: probes call them by IP over plain HTTP from inside the network.
//
// Whether a request came over HTTPS, and which host and client IP it names, is read through Express's trust proxy,
// set to TRUSTED_PROXIES: X-Forwarded-Proto, -Host and -For count only when the connecting peer is one of them.
import type { Express, RequestHandler } from 'express';
import helmet from 'helmet';
import cors from 'cors';
import type { Config } from '@nudge/config';
import { BadRequest, Forbidden } from '../errors/domain-errors';

/** Paths a browser opens: plain HTTP is redirected there, not refused. */
export const BROWSER_PAGES = ['/docs', '/admin/queues', '/reset-password'];
/** Paths that answer over plain HTTP and to any Host, for load balancers and orchestrators. */
export const PROBE_PATHS = ['/health', '/ready'];
/** Paths whose answers (tokens, reset outcomes, and errors alike) must never be cached. */
export const NO_STORE_PATHS = ['/auth', '/api/v1/auth'];
export const CORS_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];
export const CORS_HEADERS = ['Authorization', 'Content-Type'];

/**
 * A CSP under which Swagger UI at /docs still works: its page loads its scripts (bundle, preset and
 * swagger-ui-init.js) from /docs/ itself, has inline <style> blocks and style attributes, uses data: images, and
 * fetches /openapi.json from the same origin. No inline script and no eval is needed.
 */
export const CONTENT_SECURITY_POLICY = {
  useDefaults: false,
  directives: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    scriptSrcAttr: ["'none'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:'],
    fontSrc: ["'self'", 'data:'],
    connectSrc: ["'self'"],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    upgradeInsecureRequests: [],
  },
};

const under = (path: string, prefixes: string[]): boolean =>
  prefixes.some((p) => path === p || path.startsWith(`${p}/`));

/**
 * The host names a request may name. Production always checks: with ALLOWED_HOSTS empty it accepts only the host of
 * PUBLIC_BASE_URL (required there), so that no deployment answers to any Host by accident. Elsewhere an empty list
 * means no check. An entry `.example.com` also accepts every subdomain of example.com.
 */
export function allowedHostsOf(config: Config): string[] {
  const listed = config.allowedHosts.map((h) => h.toLowerCase());
  if (listed.length || !config.isProduction) return listed;
  return [new URL(config.publicBaseUrl).hostname.toLowerCase()];
}

function hostAllowed(host: string, allowed: string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return allowed.some((a) => (a.startsWith('.') ? h === a.slice(1) || h.endsWith(a) : h === a));
}

function trustedHost(config: Config): RequestHandler {
  const allowed = allowedHostsOf(config);
  return (req, _res, next) => {
    if (!allowed.length || PROBE_PATHS.includes(req.path)) return next();
    // req.hostname reads X-Forwarded-Host only from a trusted proxy, and Host otherwise.
    const host = req.hostname as string | undefined;
    next(host && hostAllowed(host, allowed) ? undefined : new BadRequest('INVALID_HOST', 'Invalid Host header'));
  };
}

function httpsOnly(): RequestHandler {
  return (req, res, next) => {
    // req.secure is the socket's TLS, or X-Forwarded-Proto from a trusted proxy.
    if (req.secure || PROBE_PATHS.includes(req.path)) return next();
    if (under(req.path, BROWSER_PAGES) && (req.method === 'GET' || req.method === 'HEAD')) {
      // The host was checked just before, so this cannot redirect anywhere else.
      return res.redirect(301, `https://${req.hostname}${req.originalUrl}`);
    }
    next(new Forbidden('HTTPS is required', 'HTTPS_REQUIRED'));
  };
}

function corsFor(config: Config): RequestHandler {
  const origins = new Set(config.corsOrigins.map((o) => new URL(o).origin));
  const allow = cors({
    // An origin not listed gets no CORS header at all, preflight included.
    origin: (origin, cb) => cb(null, origin !== undefined && origins.has(origin) ? origin : false),
    methods: CORS_METHODS,
    allowedHeaders: CORS_HEADERS,
    exposedHeaders: ['Retry-After', 'X-Request-Id'],
    credentials: false,
    maxAge: 600,
  });
  return (req, res, next) => {
    // The answer depends on Origin even when it carries no CORS header, so shared caches must key on it.
    if (origins.size) res.vary('Origin');
    allow(req, res, next);
  };
}

function noStore(): RequestHandler {
  return (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  };
}

/** Applies the transport rules to an app; call it before the body parsers and the routes. */
export function applyTransport(app: Express, config: Config): void {
  app.set('trust proxy', config.trustedProxies.length ? config.trustedProxies : false);
  app.use(
    helmet({
      contentSecurityPolicy: config.isProduction ? CONTENT_SECURITY_POLICY : false,
      strictTransportSecurity: config.isProduction,
    }),
  );
  // First, so that every refusal below carries it too.
  app.use(NO_STORE_PATHS, noStore());
  app.use(trustedHost(config));
  if (config.isProduction) app.use(httpsOnly());
  app.use(corsFor(config));
}
