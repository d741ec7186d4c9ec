// Opaque tokens (refresh, reset, invite): random, handed out once, stored only as a SHA-256 hash.
import crypto from 'node:crypto';

/** 256 bits of randomness, URL-safe. */
export function randomToken(bytes = 32): string {
  return crypto.randomBytes(bytes).toString('base64url');
}

export function hashToken(token: string): string {
  return crypto.createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A readable random password for the seeded admin when none is configured. */
export function randomPassword(): string {
  return crypto.randomBytes(18).toString('base64url');
}
