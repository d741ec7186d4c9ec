// Access JWTs: HS256 only, signed and verified with a KeyObject (5–7× faster than a string secret with
// jsonwebtoken 9, see RECIPES.md), carrying sub, jti, typ, aud, tv, sid, iat and exp.
import crypto, { type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';

export const ACCESS_AUDIENCE = 'nudge:auth';
export const ACCESS_TYPE = 'access';

export interface AccessClaims {
  sub: string;
  jti: string;
  typ: typeof ACCESS_TYPE;
  aud: typeof ACCESS_AUDIENCE;
  tv: number;
  sid: string;
  iat: number;
  exp: number;
}

export function signingKey(secret: string): KeyObject {
  // The secret is used as the UTF-8 bytes of the string, never decoded.
  return crypto.createSecretKey(Buffer.from(secret, 'utf8'));
}

export function signAccessToken(
  key: KeyObject,
  ttlSeconds: number,
  user: { id: string; token_version: number },
  sid: string,
): { token: string; claims: AccessClaims } {
  const iat = Math.floor(Date.now() / 1000);
  const claims: AccessClaims = {
    sub: user.id,
    jti: crypto.randomUUID(),
    typ: ACCESS_TYPE,
    aud: ACCESS_AUDIENCE,
    tv: user.token_version,
    sid,
    iat,
    exp: iat + ttlSeconds,
  };
  return { token: jwt.sign(claims, key, { algorithm: 'HS256' }), claims };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Checks the claims jsonwebtoken does not: the token's type and the shape of our own claims. */
export function isAccessClaims(p: unknown): p is AccessClaims {
  if (!p || typeof p !== 'object') return false;
  const c = p as Record<string, unknown>;
  return (
    c.typ === ACCESS_TYPE &&
    c.aud === ACCESS_AUDIENCE &&
    typeof c.sub === 'string' &&
    UUID.test(c.sub) &&
    typeof c.jti === 'string' &&
    UUID.test(c.jti) &&
    typeof c.sid === 'string' &&
    UUID.test(c.sid) &&
    Number.isInteger(c.tv) &&
    Number.isInteger(c.iat) &&
    Number.isInteger(c.exp)
  );
}
