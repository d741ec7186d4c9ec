// Password hashing with bcryptjs, run on the worker-thread pool (password-pool.ts). A password is 8 characters to 72
// UTF-8 bytes: bcrypt ignores everything past byte 72, so a longer one is refused rather than silently truncated.
import { getPasswordPool, type HashLane } from './password-pool';

export const PASSWORD_MAX_BYTES = 72;

export function passwordTooLong(password: string): boolean {
  return Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES;
}

/** Rejects with HashPoolBusyError when the pool's queue is full. */
export async function hashPassword(password: string, cost: number, lane: HashLane = 'other'): Promise<string> {
  return getPasswordPool().hash(password, cost, lane);
}

/** Rejects with HashPoolBusyError when the pool's queue is full. */
export async function verifyPassword(password: string, hash: string, lane: HashLane = 'login'): Promise<boolean> {
  return getPasswordPool().verify(password, hash, lane);
}
