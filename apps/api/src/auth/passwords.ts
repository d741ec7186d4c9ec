// The password functions the API uses, as one object so the auth service depends on a seam, not a module.
// The dummy hash is a real bcrypt hash of a random password at the configured cost, made once, so a login for an
// unknown email costs exactly what a wrong password does.
import crypto from 'node:crypto';
import { hashPassword, verifyPassword } from '@nudge/crypto';

export interface Passwords {
  hash(password: string, cost: number): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
  dummyHash(): Promise<string>;
}

export function createPasswords(cost: number, impl = { hash: hashPassword, verify: verifyPassword }): Passwords {
  let dummy: Promise<string> | undefined;
  return {
    hash: (p, c) => impl.hash(p, c),
    verify: (p, h) => impl.verify(p, h),
    dummyHash: () => (dummy ??= impl.hash(crypto.randomBytes(24).toString('base64url'), cost)),
  };
}
