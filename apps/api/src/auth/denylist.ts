// Revoked access tokens. PostgreSQL is the truth; Redis holds a fast copy of each denied jti until the token
// expires, and of each revoked refresh family (the `sid` claim) for as long as an access token of it can live.
// The principal cache (principal-cache.ts) asks about both in the one MGET it makes per request. When Redis cannot
// answer, or the circuit is not closed, PostgreSQL does: a token is never let through unchecked.
//
// A denial written while Redis was away exists only in PostgreSQL. So before the circuit closes after an outage, the
// copy is reloaded from PostgreSQL (every unexpired denied jti, every recently revoked family); until then, reads go
// to PostgreSQL.
import type { Db } from '@nudge/db';
import { denyAccessToken, listLiveDeniedTokens, listRecentlyRevokedFamilies } from '@nudge/db';
import { appKey, type Redis, type RedisCircuit } from '@nudge/queue';

const RELOAD_BATCH = 1000;

export class TokenDenylist {
  private readonly redis: Redis;

  constructor(
    private readonly db: Db,
    private readonly circuit: RedisCircuit,
    /** How long an access token lives: a revoked family's copy is kept that long after its revocation. */
    private readonly accessTtlSeconds: number,
  ) {
    this.redis = circuit.redis;
    circuit.beforeClosing('denylist', () => this.reload());
  }

  static jtiKey(jti: string): string {
    return appKey('denied', jti);
  }

  static familyKey(familyId: string): string {
    return appKey('denied-family', familyId);
  }

  /** Denies one access token. Written to PostgreSQL first; the Redis copy is best effort (see the reload). */
  async deny(jti: string, userId: string, expiresAtSeconds: number): Promise<void> {
    await denyAccessToken(this.db, { jti, user_id: userId, expires_at: new Date(expiresAtSeconds * 1000) });
    await this.circuit.write('denylist', () =>
      this.redis.set(TokenDenylist.jtiKey(jti), '1', 'EXAT', expiresAtSeconds),
    );
  }

  /**
   * Denies every access token of refresh families whose refresh tokens the caller has just revoked in PostgreSQL
   * (refresh_tokens.revoked_at is the truth for families).
   */
  async denyFamilies(familyIds: string[]): Promise<void> {
    const ids = [...new Set(familyIds)];
    if (!ids.length) return;
    await this.circuit.write('denylist', () => {
      const tx = this.redis.multi();
      for (const id of ids) tx.set(TokenDenylist.familyKey(id), '1', 'EX', this.accessTtlSeconds);
      return tx.exec();
    });
  }

  /** Copies PostgreSQL's denials into Redis; a failure leaves the circuit open (and reads on PostgreSQL). */
  async reload(): Promise<{ tokens: number; families: number }> {
    let tokens = 0;
    let afterJti: string | undefined;
    for (;;) {
      const rows = await listLiveDeniedTokens(this.db, { afterJti, limit: RELOAD_BATCH });
      if (rows.length) {
        const tx = this.redis.multi();
        for (const r of rows)
          tx.set(TokenDenylist.jtiKey(r.jti), '1', 'EXAT', Math.ceil(r.expires_at.getTime() / 1000));
        await tx.exec();
        tokens += rows.length;
      }
      if (rows.length < RELOAD_BATCH) break;
      afterJti = rows[rows.length - 1]?.jti;
    }
    const families = await listRecentlyRevokedFamilies(this.db, this.accessTtlSeconds);
    for (let i = 0; i < families.length; i += RELOAD_BATCH) {
      const tx = this.redis.multi();
      for (const f of families.slice(i, i + RELOAD_BATCH)) {
        const until = Math.ceil(new Date(f.revoked_at).getTime() / 1000) + this.accessTtlSeconds;
        tx.set(TokenDenylist.familyKey(f.family_id), '1', 'EXAT', until);
      }
      await tx.exec();
    }
    return { tokens, families: families.length };
  }
}
