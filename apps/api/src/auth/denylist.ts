// Revoked access tokens. PostgreSQL is the truth; Redis holds a fast copy of each jti until the token expires.
// When Redis cannot answer, PostgreSQL does: a token is never let through unchecked.
import type { Db } from '@nudge/db';
import { denyAccessToken, isAccessTokenDenied } from '@nudge/db';
import { appKey, type Redis } from '@nudge/queue';
import type { Logger } from '@nudge/logger';

export class TokenDenylist {
  constructor(
    private readonly db: Db,
    private readonly redis: Redis,
    private readonly logger: Logger,
  ) {}

  async deny(jti: string, userId: string, expiresAtSeconds: number): Promise<void> {
    await denyAccessToken(this.db, { jti, user_id: userId, expires_at: new Date(expiresAtSeconds * 1000) });
    try {
      await this.redis.set(appKey('denied', jti), '1', 'EXAT', expiresAtSeconds);
    } catch (err) {
      this.logger.warn('Redis unavailable: denied token recorded in PostgreSQL only', { err });
    }
  }

  async isDenied(jti: string): Promise<boolean> {
    try {
      return (await this.redis.exists(appKey('denied', jti))) === 1;
    } catch {
      return isAccessTokenDenied(this.db, jti);
    }
  }
}
