// Registration, login, refresh rotation, logout and password reset: the account flows, a service like any other.
// Handlers call these and only answer; auth/ holds only what authenticates a request.
import type { PrincipalCache } from '../auth/principal-cache';
import crypto from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Config } from '@nudge/config';
import type { Logger } from '@nudge/logger';
import {
  type Conn,
  type Db,
  type UserRow,
  ForeignKeyViolation,
  UniqueViolation,
  consumeInvite,
  consumePasswordResetToken,
  discardPasswordResetTokens,
  findLivePasswordResetToken,
  findRefreshTokenForUpdate,
  findUserByEmail,
  findUserById,
  findWorkspaceByName,
  insertRefreshToken,
  insertUser,
  insertWorkspace,
  keepPasswordResetRequest,
  markRefreshTokenUsed,
  revokeRefreshFamily,
  revokeRefreshFamilyOfToken,
  setInviteUsedBy,
  revokeUserRefreshTokens,
  syncBirthdayForUser,
  updateUser,
} from '@nudge/db';
import { hashToken, randomToken } from '@nudge/crypto';
import { QUEUES, type Producers } from '@nudge/queue';
import type { ListingCache } from '@nudge/cache';
import { signAccessToken } from '../auth/access-tokens';
import type { TokenDenylist } from '../auth/denylist';
import type { Principal } from '../auth/principal';
import type { Passwords } from '../auth/passwords';
import { BadRequest, Unauthorized } from '../errors/domain-errors';
import type { AuditLog } from './audit';
import type { AuthRateLimits } from './rate-limits';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'bearer';
}

export interface RegisterInput {
  email: string;
  password: string;
  name?: string;
  date_of_birth: string;
  timezone?: string;
  invite_token?: string;
  workspace_name?: string;
}

export class AuthService {
  constructor(
    private readonly deps: {
      db: Db;
      config: Config;
      logger: Logger;
      key: KeyObject;
      denylist: TokenDenylist;
      principals: PrincipalCache;
      passwords: Passwords;
      producers: Producers;
      audit: AuditLog;
      cache: ListingCache;
      limits: AuthRateLimits;
    },
  ) {}

  async register(input: RegisterInput): Promise<UserRow> {
    const { db, config, passwords } = this.deps;
    if (await findUserByEmail(db, input.email)) throw new BadRequest('REGISTER_USER_ALREADY_EXISTS');
    const passwordHash = await passwords.hash(input.password, config.bcryptCost);
    try {
      const user = await db.transaction(async (trx) => {
        let workspaceId: string | null = null;
        let role: UserRow['role'] = null;
        if (input.invite_token) {
          const invite = await consumeInvite(trx, hashToken(input.invite_token), null);
          if (!invite) throw new BadRequest('REGISTER_INVALID_INVITE_TOKEN');
          workspaceId = invite.workspace_id;
          role = invite.role;
        } else if (input.workspace_name) {
          if (await findWorkspaceByName(trx, input.workspace_name))
            throw new BadRequest('REGISTER_WORKSPACE_ALREADY_EXISTS');
          workspaceId = await insertWorkspace(trx, {
            name: input.workspace_name,
            timezone: input.timezone ?? 'America/New_York',
          });
          role = 'owner';
        }
        const user = await insertUser(trx, {
          email: input.email,
          password_hash: passwordHash,
          name: input.name ?? null,
          date_of_birth: input.date_of_birth,
          timezone: input.timezone ?? 'America/New_York',
          workspace_id: workspaceId,
          role,
        });
        if (input.invite_token) await setInviteUsedBy(trx, hashToken(input.invite_token), user.id);
        await syncBirthdayForUser(trx, user);
        return user;
      });
      // A new member (and a new workspace) shows in the workspace's listings and the platform admin's.
      await this.deps.cache.invalidate(['users', 'birthdays', 'workspaces'], [user.workspace_id]);
      return user;
    } catch (err) {
      // The invite's workspace was deleted while this registration was joining it.
      if (err instanceof ForeignKeyViolation && input.invite_token)
        throw new BadRequest('REGISTER_INVALID_INVITE_TOKEN');
      // Two registrations racing for one email or workspace name: the unique index decides.
      if (err instanceof UniqueViolation) {
        throw new BadRequest(
          err.constraint === 'workspaces_name_lower_unique'
            ? 'REGISTER_WORKSPACE_ALREADY_EXISTS'
            : 'REGISTER_USER_ALREADY_EXISTS',
        );
      }
      throw err;
    }
  }

  /**
   * Unknown email, wrong password and inactive user all do one bcrypt compare and give the same answer. The limiter
   * reserves the attempt's points before bcrypt, so parallel guesses cannot all pass one check, and hears the outcome.
   * It keys the account on the user the email matches, so every spelling of one account shares its limits.
   */
  async login(email: string, password: string, ip: string): Promise<TokenPair> {
    const { db, passwords, audit, limits } = this.deps;
    const user = await findUserByEmail(db, email);
    const attempt = await limits.reserveLogin({ email, userId: user?.id }, ip);
    let wrongPassword = false;
    let pair: TokenPair;
    try {
      const ok = await passwords.verifyLogin(password, user?.password_hash ?? (await passwords.dummyHash()));
      if (!user || !ok || !user.is_active) {
        await audit.event('login_failed', { userId: user?.id, ip, workspaceId: user?.workspace_id ?? null });
        wrongPassword = true;
        throw new BadRequest('LOGIN_BAD_CREDENTIALS');
      }
      await audit.event('login', { userId: user.id, ip, workspaceId: user.workspace_id });
      pair = await this.issuePair(user, crypto.randomUUID());
    } catch (err) {
      await (wrongPassword ? attempt.failed() : attempt.abandoned());
      throw err;
    }
    await attempt.succeeded();
    return pair;
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    const { db } = this.deps;
    const outcome = await db.transaction(async (trx) => {
      const row = await findRefreshTokenForUpdate(trx, hashToken(refreshToken));
      if (!row || row.revoked_at || row.expires_at.getTime() <= Date.now()) return { ok: false as const };
      if (row.used_at) {
        // A spent token presented again means it leaked: revoke the whole family. No grace window.
        await revokeRefreshFamily(trx, row.family_id);
        return { ok: false as const, reused: row };
      }
      const user = await findUserById(trx, row.user_id);
      if (!user?.is_active || user.token_version !== row.token_version) return { ok: false as const };
      await markRefreshTokenUsed(trx, row.id);
      const refresh = await this.newRefreshToken(trx, user, row.family_id);
      return { ok: true as const, user, family: row.family_id, refresh };
    });
    if (!outcome.ok) {
      if (outcome.reused) {
        const { user_id: userId, family_id: family } = outcome.reused;
        // The family's access tokens die with its refresh tokens.
        await this.deps.denylist.denyFamilies([family]);
        await this.deps.audit.event('refresh_reuse_detected', {
          userId,
          workspaceId: (await findUserById(this.deps.db, userId))?.workspace_id ?? null,
          targetType: 'refresh_family',
          targetId: family,
          details: { family },
        });
      }
      throw new Unauthorized('Invalid refresh token', 'REFRESH_TOKEN_INVALID');
    }
    return this.pair(outcome.user, outcome.family, outcome.refresh);
  }

  async logout(principal: Principal, refreshToken?: string): Promise<void> {
    const { db, denylist, audit } = this.deps;
    await denylist.deny(principal.claims.jti, principal.user.id, principal.claims.exp);
    await revokeRefreshFamily(db, principal.claims.sid);
    const families = [principal.claims.sid];
    if (refreshToken) {
      const other = await revokeRefreshFamilyOfToken(db, principal.user.id, hashToken(refreshToken));
      if (other) families.push(other);
    }
    await denylist.denyFamilies(families);
    await audit.event('logout', { userId: principal.user.id, workspaceId: principal.user.workspace_id });
  }

  /**
   * Always succeeds for a well-formed email; only an active account gets a job, and the job carries only its id. An
   * account gets at most one mail per RESET_COOLDOWN_SECONDS, so that no one can flood its owner's inbox, and the
   * answer does not say whether this request was the one. With the queue unreachable the request is kept in
   * PostgreSQL, and the reminders process queues it once Redis is back: the answer is the same 202 either way.
   */
  async forgotPassword(email: string): Promise<void> {
    const { db, limits } = this.deps;
    const user = await findUserByEmail(db, email);
    if (!user?.is_active) return;
    if (!(await limits.claimResetMail(user.id))) return;
    await this.queueResetMail(user.id);
  }

  private async queueResetMail(userId: string): Promise<void> {
    const { producers, config, db, logger } = this.deps;
    try {
      await withTimeout(
        producers.add(QUEUES.dispatchEmail, { kind: 'password-reset', userId }),
        config.redisCommandTimeoutMs,
      );
    } catch (err) {
      logger.warn('reset mail not queued (Redis unavailable); kept in PostgreSQL for the reminders process', {
        err: (err as Error).message,
      });
      await keepPasswordResetRequest(db, userId);
    }
  }

  /**
   * A bogus or spent token is refused after one indexed read and before any bcrypt work, so that resets cannot be
   * used to keep the hashing pool busy. The token is then spent in the transaction that sets the password: of two
   * concurrent uses, one wins.
   */
  async resetPassword(token: string, password: string): Promise<void> {
    const { db, config, passwords, audit } = this.deps;
    const tokenHash = hashToken(token);
    if (!(await findLivePasswordResetToken(db, tokenHash))) throw new BadRequest('RESET_PASSWORD_BAD_TOKEN');
    const hash = await passwords.hash(password, config.bcryptCost);
    const userId = await db.transaction(async (trx) => {
      const id = await consumePasswordResetToken(trx, tokenHash);
      if (!id) return undefined;
      const user = await findUserById(trx, id);
      if (!user) return undefined;
      await updateUser(trx, id, { password_hash: hash, token_version: user.token_version + 1 });
      await revokeUserRefreshTokens(trx, id);
      await discardPasswordResetTokens(trx, id);
      return id;
    });
    if (!userId) throw new BadRequest('RESET_PASSWORD_BAD_TOKEN');
    await this.deps.principals.forget([userId]);
    const workspaceId = (await findUserById(db, userId))?.workspace_id ?? null;
    await this.deps.cache.invalidate('users', [workspaceId]);
    await audit.event('password_reset', { userId, workspaceId, targetType: 'user', targetId: userId });
  }

  private async issuePair(user: UserRow, family: string): Promise<TokenPair> {
    const refresh = await this.newRefreshToken(this.deps.db, user, family);
    return this.pair(user, family, refresh);
  }

  private async newRefreshToken(db: Conn, user: UserRow, family: string): Promise<string> {
    const token = randomToken(32);
    const expires = new Date(Date.now() + this.deps.config.refreshTokenTtlDays * 86400_000);
    await insertRefreshToken(db, {
      user_id: user.id,
      family_id: family,
      token_hash: hashToken(token),
      token_version: user.token_version,
      expires_at: expires,
    });
    return token;
  }

  private pair(user: UserRow, family: string, refresh: string): TokenPair {
    const { token } = signAccessToken(this.deps.key, this.deps.config.accessTokenTtlSeconds, user, family);
    return { access_token: token, refresh_token: refresh, token_type: 'bearer' };
  }
}

/** Rejects when `work` takes longer than `ms` (a queue whose Redis accepts the connection but never answers). */
async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
