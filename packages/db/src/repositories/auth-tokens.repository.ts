// Refresh tokens, the access-token denylist, password-reset tokens. Plaintext tokens never reach this layer: it
// sees only their SHA-256 hashes.
import type { Knex } from 'knex';
import type { Conn } from '../connection';

export interface RefreshTokenRow {
  id: string;
  user_id: string;
  family_id: string;
  token_hash: string;
  token_version: number;
  expires_at: Date;
  used_at: Date | null;
  revoked_at: Date | null;
}

export async function insertRefreshToken(
  db: Conn,
  row: { user_id: string; family_id: string; token_hash: string; token_version: number; expires_at: Date },
): Promise<void> {
  await db('refresh_tokens').insert(row);
}

/** Locks the row so two concurrent refreshes with one token cannot both rotate it. */
export async function findRefreshTokenForUpdate(
  db: Knex.Transaction,
  tokenHash: string,
): Promise<RefreshTokenRow | undefined> {
  return db<RefreshTokenRow>('refresh_tokens').where({ token_hash: tokenHash }).forUpdate().first();
}

export async function markRefreshTokenUsed(db: Conn, id: string): Promise<void> {
  await db('refresh_tokens').where({ id }).update({ used_at: db.fn.now() });
}

export async function revokeRefreshFamily(db: Conn, familyId: string): Promise<number> {
  return db('refresh_tokens')
    .where({ family_id: familyId })
    .whereNull('revoked_at')
    .update({ revoked_at: db.fn.now() });
}

/**
 * Logout may name a refresh token too; it revokes that token's family if the token is the caller's. Answers the
 * family's id (so its access tokens can be denied too), or undefined when the token is not the caller's.
 */
export async function revokeRefreshFamilyOfToken(
  db: Conn,
  userId: string,
  tokenHash: string,
): Promise<string | undefined> {
  const row = await db('refresh_tokens')
    .where({ token_hash: tokenHash, user_id: userId })
    .first<{ family_id: string } | undefined>('family_id');
  if (!row) return undefined;
  await revokeRefreshFamily(db, row.family_id);
  return row.family_id;
}

export async function revokeUserRefreshTokens(db: Conn, userId: string): Promise<number> {
  return db('refresh_tokens').where({ user_id: userId }).whereNull('revoked_at').update({ revoked_at: db.fn.now() });
}

export async function denyAccessToken(
  db: Conn,
  row: { jti: string; user_id: string; expires_at: Date },
): Promise<void> {
  await db('revoked_tokens').insert(row).onConflict('jti').ignore();
}

export async function isAccessTokenDenied(db: Conn, jti: string): Promise<boolean> {
  return !!(await db('revoked_tokens').where({ jti }).first('jti'));
}

/**
 * Whether an access token is denied by its own jti or by the revocation of its refresh family (`sid`): reuse
 * detection and logout revoke a family's refresh tokens, and that kills the family's access tokens too.
 */
export async function isAccessTokenOrFamilyDenied(db: Conn, jti: string, familyId: string): Promise<boolean> {
  const { rows } = await db.raw<{ rows: { denied: boolean }[] }>(
    `SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ?)
         OR EXISTS (SELECT 1 FROM refresh_tokens WHERE family_id = ? AND revoked_at IS NOT NULL) AS denied`,
    [jti, familyId],
  );
  return rows[0]?.denied ?? false;
}

/** Denied access tokens that have not expired yet, a batch at a time in jti order (the denylist's reload). */
export async function listLiveDeniedTokens(
  db: Conn,
  opts: { afterJti?: string; limit: number },
): Promise<{ jti: string; expires_at: Date }[]> {
  const q = db('revoked_tokens')
    .select('jti', 'expires_at')
    .where('expires_at', '>', db.fn.now())
    .orderBy('jti')
    .limit(opts.limit);
  if (opts.afterJti) q.andWhere('jti', '>', opts.afterJti);
  return q;
}

/** Refresh families revoked within the last `seconds` (whose access tokens may still be alive), with when. */
export async function listRecentlyRevokedFamilies(
  db: Conn,
  seconds: number,
): Promise<{ family_id: string; revoked_at: Date }[]> {
  return db('refresh_tokens')
    .select('family_id')
    .max({ revoked_at: 'revoked_at' })
    .where('revoked_at', '>', db.raw('now() - make_interval(secs => ?)', [seconds]))
    .groupBy('family_id');
}

/**
 * Keeps one live reset token per user: minting a new one (a resend, a retried job) replaces the live one. One
 * statement against the partial unique index, so two concurrent requests for one account cannot both insert.
 */
export async function replacePasswordResetToken(
  db: Conn,
  row: { user_id: string; token_hash: string; expires_at: Date },
): Promise<void> {
  await db.raw(
    `INSERT INTO password_reset_tokens (user_id, token_hash, expires_at) VALUES (?, ?, ?)
     ON CONFLICT (user_id) WHERE used_at IS NULL
     DO UPDATE SET token_hash = EXCLUDED.token_hash, expires_at = EXCLUDED.expires_at, created_at = now()`,
    [row.user_id, row.token_hash, row.expires_at],
  );
}

/**
 * The user a live (unused, unexpired) reset token belongs to, without spending it: an index read that lets a reset
 * refuse a bogus token before any bcrypt work. consumePasswordResetToken still decides who gets to use it.
 */
export async function findLivePasswordResetToken(db: Conn, tokenHash: string): Promise<string | undefined> {
  const row = await db('password_reset_tokens')
    .where({ token_hash: tokenHash })
    .whereNull('used_at')
    .where('expires_at', '>', db.fn.now())
    .first<{ user_id: string } | undefined>('user_id');
  return row?.user_id;
}

/** Kills a user's pending reset links: their password or email changed, so a link mailed before must not work. */
export async function discardPasswordResetTokens(db: Conn, userId: string): Promise<number> {
  return db('password_reset_tokens').where({ user_id: userId }).whereNull('used_at').delete();
}

/** Spends a reset token atomically: only one caller can ever get the user id back. */
export async function consumePasswordResetToken(db: Conn, tokenHash: string): Promise<string | undefined> {
  const [row] = await db('password_reset_tokens')
    .where({ token_hash: tokenHash })
    .whereNull('used_at')
    .where('expires_at', '>', db.fn.now())
    .update({ used_at: db.fn.now() })
    .returning<{ user_id: string }[]>('user_id');
  return row?.user_id;
}

/** A forgot-password request kept for later (its queue was unreachable); one per user, a second one is a no-op. */
export async function keepPasswordResetRequest(db: Conn, userId: string): Promise<void> {
  await db('password_reset_requests').insert({ user_id: userId }).onConflict('user_id').ignore();
}

/**
 * Kept reset requests, oldest first, locked for the caller's transaction (SKIP LOCKED: two workers never take the
 * same one). The caller queues each, then deletes it in that transaction.
 */
export async function lockPasswordResetRequests(
  trx: Knex.Transaction,
  limit: number,
): Promise<{ id: string; user_id: string }[]> {
  return trx('password_reset_requests')
    .select('id', 'user_id')
    .orderBy('created_at')
    .limit(limit)
    .forUpdate()
    .skipLocked();
}

export async function deletePasswordResetRequest(db: Conn, id: string): Promise<void> {
  await db('password_reset_requests').where({ id }).delete();
}
