// The password functions the API uses, as one object so the services depend on a seam, not a module.
// The dummy hash is a real bcrypt hash of a random password at the configured cost, made once, so a login for an
// unknown email costs exactly what a wrong password does.
//
// The seam decides which lane of the hashing pool each use waits in: login verification (the dummy compare included)
// in `login`, every hash and the `current_password` check in `other`. A flood of registrations, resets or password
// changes then fills only its own lane, and logins keep the capacity they need.
import crypto from 'node:crypto';
import { hashPassword, verifyPassword, type HashLane } from '@nudge/crypto';

export interface Passwords {
  /** Registration, reset and password change: always the `other` lane. */
  hash(password: string, cost: number): Promise<string>;
  /** A login's compare (the `login` lane). */
  verifyLogin(password: string, hash: string): Promise<boolean>;
  /** Any other check of a password the user already has, such as `current_password` (the `other` lane). */
  verifyCurrent(password: string, hash: string): Promise<boolean>;
  dummyHash(): Promise<string>;
}

export interface PasswordImpl {
  hash(password: string, cost: number, lane: HashLane): Promise<string>;
  verify(password: string, hash: string, lane: HashLane): Promise<boolean>;
}

export function createPasswords(
  cost: number,
  impl: PasswordImpl = { hash: hashPassword, verify: verifyPassword },
): Passwords {
  let dummy: Promise<string> | undefined;
  return {
    hash: (p, c) => impl.hash(p, c, 'other'),
    verifyLogin: (p, h) => impl.verify(p, h, 'login'),
    verifyCurrent: (p, h) => impl.verify(p, h, 'other'),
    dummyHash: () => (dummy ??= impl.hash(crypto.randomBytes(24).toString('base64url'), cost, 'other')),
  };
}
