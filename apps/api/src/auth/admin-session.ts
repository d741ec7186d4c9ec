// The admin session: a browser cannot send a Bearer header when it opens the queue dashboard, so a platform admin
// exchanges their access token (POST /admin/session) for a cookie holding that very token. The cookie is scoped to
// /admin by the browser (Path) and by the server (only the /admin guard reads it), never sent cross-site (SameSite
// Strict), unreadable by scripts (HttpOnly), and dies with the token: its Max-Age is what is left of the token's
// life, and the token's jti and family are checked against the denylist on every request, so logout ends it.
import type { CookieOptions, Request } from 'express';
import type { AccessClaims } from './access-tokens';

export const ADMIN_SESSION_COOKIE = 'nudge_admin';
export const ADMIN_PATH = '/admin';

/** The token in the admin-session cookie, for a request under /admin only; null anywhere else. */
export function adminSessionToken(req: Request): string | null {
  const path = req.originalUrl.split('?')[0] ?? '';
  if (path !== ADMIN_PATH && !path.startsWith(`${ADMIN_PATH}/`)) return null;
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === ADMIN_SESSION_COOKIE) {
      const value = part.slice(eq + 1).trim();
      return value || null;
    }
  }
  return null;
}

/** The cookie's options for a token: it lives no longer than the token, and is Secure in production. */
export function adminSessionCookieOptions(claims: AccessClaims, secure: boolean, nowMs = Date.now()): CookieOptions {
  return {
    httpOnly: true,
    sameSite: 'strict',
    path: ADMIN_PATH,
    secure,
    // Whole seconds, rounded down, so the cookie never outlives the token.
    maxAge: Math.max(0, Math.floor((claims.exp * 1000 - nowMs) / 1000)) * 1000,
  };
}
