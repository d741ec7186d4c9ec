// The platform admin's browser session for the pages under /admin (the queue dashboard).
import { ExtractJwt } from 'passport-jwt';
import type { RouteSpec } from '../../http/route';
import type { Services } from '../../services';
import { principalOf } from '../../auth/authenticate';
import { ADMIN_SESSION_COOKIE, adminSessionCookieOptions } from '../../auth/admin-session';

const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();

export function adminRoutes({ config }: Services): RouteSpec[] {
  return [
    {
      method: 'post',
      path: '/admin/session',
      summary: "Open the queue dashboard in a browser: exchange the platform admin's access token for a cookie",
      description:
        `Sets \`${ADMIN_SESSION_COOKIE}\` (HttpOnly, SameSite=Strict, Path=/admin, Secure in production) holding the ` +
        "access token of the Authorization header, with a Max-Age no longer than the token's remaining life. It is " +
        'honoured under /admin only; logging out (POST /auth/jwt/logout) ends it with the token. Requests that change ' +
        'anything under /admin/queues must also carry an `Origin` equal to the public base URL.',
      tags: ['operations'],
      access: 'superuser',
      responses: { 204: { description: 'The cookie is set (Set-Cookie)' } },
      handler: (req, res) => {
        const { claims } = principalOf(req);
        // The guard has just verified this very token.
        const token = bearerToken(req) as string;
        res
          .status(204)
          .set('Cache-Control', 'no-store')
          .cookie(ADMIN_SESSION_COOKIE, token, adminSessionCookieOptions(claims, config.isProduction))
          .end();
      },
    },
  ];
}
