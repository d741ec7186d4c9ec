// Password hashing with bcryptjs. A password is 8 characters to 72 UTF-8 bytes: bcrypt ignores everything past
// byte 72, so a longer one is refused rather than silently truncated.
import bcrypt from 'bcryptjs';

export const PASSWORD_MAX_BYTES = 72;

export function passwordTooLong(password: string): boolean {
  return Buffer.byteLength(password, 'utf8') > PASSWORD_MAX_BYTES;
}

export async function hashPassword(password: string, cost: number): Promise<string> {
  return bcrypt.hash(password, cost);
}

export async function verifyPassword(password: string, hash: string): Promise<boolean> {
  return bcrypt.compare(password, hash);
}
