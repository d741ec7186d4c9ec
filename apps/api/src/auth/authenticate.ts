// Bearer authentication with passport-jwt. Every protected request checks the signature (HS256 only), audience,
// expiry and token type, then that neither the jti nor its refresh family (sid) is denied, and that the user is
// active and the token version current: the user row comes from the principal cache, checked against Redis on
// every request (principal-cache.ts).
//
// Under /admin only, the same access token may also come from the admin-session cookie (admin-session.ts), because a
// browser cannot send a Bearer header when it navigates to the queue dashboard. It goes through the very same checks,
// so logging out (the denylist) ends the cookie too.
import type { RequestHandler } from 'express';
import passport from 'passport';
import { Strategy as JwtStrategy, ExtractJwt, type VerifiedCallback } from 'passport-jwt';
import type { KeyObject } from 'node:crypto';
import { ACCESS_AUDIENCE, isAccessClaims } from './access-tokens';
import type { PrincipalCache } from './principal-cache';
import type { Principal } from './principal';
import { adminSessionToken } from './admin-session';
import { Forbidden, Unauthorized } from '../errors/domain-errors';

export function createAuthenticator(
  key: KeyObject,
  principals: PrincipalCache,
): { user: RequestHandler; superuser: RequestHandler; adminUser: RequestHandler } {
  const auth = new passport.Passport();
  const verify = (payload: unknown, done: VerifiedCallback) => {
    void (async () => {
      if (!isAccessClaims(payload)) return done(null, false);
      const user = await principals.resolve(payload);
      if (!user?.is_active || user.token_version !== payload.tv) return done(null, false);
      const principal: Principal = { user, claims: payload };
      return done(null, principal);
    })().catch((err: unknown) => done(err, false));
  };
  const options = {
    // passport-jwt hands this to jsonwebtoken, which accepts a KeyObject.
    secretOrKey: key as unknown as string,
    algorithms: ['HS256'] as ['HS256'],
    audience: ACCESS_AUDIENCE,
  };
  auth.use('jwt', new JwtStrategy({ ...options, jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken() }, verify));
  auth.use(
    'jwt-admin',
    new JwtStrategy(
      {
        ...options,
        jwtFromRequest: ExtractJwt.fromExtractors([ExtractJwt.fromAuthHeaderAsBearerToken(), adminSessionToken]),
      },
      verify,
    ),
  );
  // One passport middleware per strategy, made once: with a custom callback passport builds a new one for every
  // request (a tenth of what a cached read allocated). Success puts the principal on req.principal (assignProperty);
  // a failure comes back as passport's AuthenticationError (failWithError) and answers our 401.
  const guard = (strategy: string): RequestHandler => {
    const run = auth.authenticate(strategy, {
      session: false,
      assignProperty: 'principal',
      authInfo: false,
      failWithError: true,
    }) as RequestHandler;
    return (req, res, next) =>
      run(req, res, (err?: unknown) => {
        if (err === undefined || err === null) return next();
        next((err as { name?: unknown }).name === 'AuthenticationError' ? new Unauthorized() : err);
      });
  };
  const superuser: RequestHandler = (req, _res, next) => {
    next(req.principal?.user.is_superuser ? undefined : new Forbidden());
  };
  return { user: guard('jwt'), superuser, adminUser: guard('jwt-admin') };
}

/** The caller, for handlers behind the `user` guard. */
export function principalOf(req: { principal?: Principal }): Principal {
  if (!req.principal) throw new Unauthorized();
  return req.principal;
}
