// Users: the caller's own profile, listings, and the permission rules for changing someone else.
import type { PrincipalCache } from '../auth/principal-cache';
import {
  type Db,
  type Trx,
  type UserRow,
  type UserPatch,
  countOwnersForUpdate,
  deleteUserById,
  discardPasswordResetTokens,
  findUserByEmail,
  findUserInScope,
  findWorkspaceInScope,
  ALL_WORKSPACES,
  UniqueViolation,
  listUsers,
  revokeUserRefreshTokens,
  syncBirthdayForUser,
  updateUser,
} from '@nudge/db';
import type { Config } from '@nudge/config';
import { idScope, isManagerOf, ownScope, type Principal } from '../auth/principal';
import type { Passwords } from '../auth/passwords';
import { BadRequest, Conflict, Forbidden, NotFound, ValidationFailed } from '../errors/domain-errors';
import { ALL_KEY, type ListingCache } from '@nudge/cache';
import type { AuditLog } from './audit';
import type { AuthRateLimits } from './rate-limits';

const PROFILE_FIELDS = ['name', 'date_of_birth', 'timezone'] as const;
const MANAGER_FIELDS = [...PROFILE_FIELDS, 'role', 'is_active'] as const;
/** Everything the platform admin may set; token_version is the server's alone. */
const SUPERUSER_FIELDS = [
  ...MANAGER_FIELDS,
  'email',
  'password',
  'is_superuser',
  'is_verified',
  'workspace_id',
] as const;
/** No one changes their own role or activity, the platform admin included. */
const NEVER_ON_SELF = new Set(['role', 'is_active']);

export interface UpdateMeInput {
  name?: string | null;
  date_of_birth?: string | null;
  timezone?: string;
  email?: string;
  password?: string;
  current_password?: string;
}

export type UpdateUserInput = UpdateMeInput & {
  role?: UserRow['role'];
  is_active?: boolean;
  is_superuser?: boolean;
  is_verified?: boolean;
  workspace_id?: string | null;
  token_version?: number;
};

/** A user without their secrets: what listings return, and so all the cache ever holds. */
export type UserListing = Omit<UserRow, 'password_hash' | 'token_version'>;

function withoutSecrets({ password_hash: _hash, token_version: _version, ...user }: UserRow): UserListing {
  return user;
}

export class UsersService {
  constructor(
    private readonly deps: {
      db: Db;
      config: Config;
      passwords: Passwords;
      cache: ListingCache;
      principals: PrincipalCache;
      audit: AuditLog;
      limits: AuthRateLimits;
    },
  ) {}

  async listOwn(p: Principal): Promise<UserListing[]> {
    const scope = ownScope(p);
    if (!scope) return [];
    return this.deps.cache.getOrLoad('users', scope as string, async () =>
      (await listUsers(this.deps.db, scope)).map(withoutSecrets),
    );
  }

  async listAll(): Promise<UserListing[]> {
    return this.deps.cache.getOrLoad('users', ALL_KEY, async () =>
      (await listUsers(this.deps.db, ALL_WORKSPACES)).map(withoutSecrets),
    );
  }

  async get(p: Principal, id: string): Promise<UserRow> {
    const user = await findUserInScope(this.deps.db, idScope(p), id);
    if (!user) throw new NotFound();
    return user;
  }

  async updateMe(p: Principal, input: UpdateMeInput): Promise<UserRow> {
    const me = p.user;
    if (input.email !== undefined || input.password !== undefined) {
      // Whoever holds a stolen access token could otherwise guess the password here without limit.
      const { limits, passwords } = this.deps;
      const ok = await limits.checkPassword(me.id, () =>
        passwords.verifyCurrent(input.current_password ?? '', me.password_hash),
      );
      if (!ok) throw new BadRequest('UPDATE_USER_INVALID_PASSWORD');
    }
    const { current_password: _ignored, ...changes } = input;
    return this.apply(me, changes);
  }

  async update(p: Principal, id: string, input: UpdateUserInput): Promise<UserRow> {
    const target = await this.get(p, id);
    const fields = Object.keys(input);
    const allowed = this.allowedFields(p, target, input);
    const refused = fields.filter((f) => !allowed.has(f));
    if (refused.length) throw new Forbidden(`You may not change: ${refused.join(', ')}`);
    if (
      input.workspace_id !== undefined &&
      input.workspace_id !== null &&
      !(await findWorkspaceInScope(this.deps.db, ALL_WORKSPACES, input.workspace_id))
    ) {
      throw ValidationFailed.field('body', 'workspace_id', '"workspace_id" names no workspace', 'any.invalid');
    }
    // A role means a place in a workspace: a user has one exactly when they have a workspace.
    const workspaceAfter = input.workspace_id !== undefined ? input.workspace_id : target.workspace_id;
    if (input.role !== undefined && (input.role === null) !== (workspaceAfter === null)) {
      throw ValidationFailed.field(
        'body',
        'role',
        workspaceAfter ? '"role" is required for a user in a workspace' : '"role" needs a workspace',
        'any.invalid',
      );
    }
    // The last owner cannot be demoted (nor moved out of the workspace), or the workspace would be unmanageable.
    const losesOwner =
      target.role === 'owner' &&
      ((input.role !== undefined && input.role !== 'owner') ||
        (input.workspace_id !== undefined && input.workspace_id !== target.workspace_id));
    const ownerWorkspace = target.workspace_id;
    const guard =
      losesOwner && ownerWorkspace
        ? async (trx: Trx) => {
            if ((await countOwnersForUpdate(trx, ownerWorkspace)) <= 1)
              throw new Conflict('The last owner cannot be demoted', 'LAST_OWNER');
          }
        : undefined;
    const updated = await this.apply(target, input, guard);
    if (input.role !== undefined && input.role !== target.role)
      await this.deps.audit.event('role_changed', {
        userId: p.user.id,
        workspaceId: updated.workspace_id ?? target.workspace_id,
        targetType: 'user',
        targetId: target.id,
        details: { from: target.role, to: updated.role },
      });
    if (input.is_active === false && target.is_active)
      await this.deps.audit.event('user_deactivated', {
        userId: p.user.id,
        workspaceId: target.workspace_id,
        targetType: 'user',
        targetId: target.id,
      });
    return updated;
  }

  async remove(p: Principal, id: string): Promise<void> {
    const target = await this.get(p, id);
    const mayDelete =
      p.user.is_superuser ||
      (target.id !== p.user.id &&
        target.role !== 'owner' &&
        !target.is_superuser &&
        isManagerOf(p, target.workspace_id));
    if (!mayDelete) throw new Forbidden();
    await this.deps.db.transaction(async (trx) => {
      await deleteUserById(trx, target.id);
    });
    await this.deps.principals.forget([target.id]);
    await this.deps.cache.invalidate(['users', 'birthdays'], [target.workspace_id]);
    await this.deps.audit.event('user_deleted', {
      userId: p.user.id,
      workspaceId: target.workspace_id,
      targetType: 'user',
      targetId: target.id,
    });
  }

  private allowedFields(p: Principal, target: UserRow, input: UpdateUserInput): Set<string> {
    const self = target.id === p.user.id;
    if (p.user.is_superuser) return new Set(SUPERUSER_FIELDS.filter((f) => !(self && NEVER_ON_SELF.has(f))));
    // Everyone else's own email and password go through PATCH /users/me, which asks for the current password.
    if (self) return new Set(PROFILE_FIELDS);
    // A workspace's managers manage its members, never a platform admin who happens to be one of them.
    if (target.is_superuser || !isManagerOf(p, target.workspace_id)) return new Set();
    // Only an owner grants or removes ownership, or changes an owner at all.
    if ((target.role === 'owner' || input.role === 'owner') && p.user.role !== 'owner') return new Set();
    const managing = new Set<string>(MANAGER_FIELDS);
    // Owners grant admin; admins grant member only: the same rule as for invites.
    if (input.role === 'admin' && p.user.role !== 'owner') managing.delete('role');
    // Taking a member's role away would leave them in the workspace without one; removing them is DELETE.
    if (input.role === null) managing.delete('role');
    return managing;
  }

  /**
   * Writes a user and their birthday row in one transaction, and clears the listings it changes. `guard` runs first
   * in that transaction, for checks that must hold at the moment of the write.
   */
  private async apply(target: UserRow, input: UpdateUserInput, guard?: (trx: Trx) => Promise<void>): Promise<UserRow> {
    const { db, config, passwords, cache } = this.deps;
    if (input.email !== undefined) {
      const other = await findUserByEmail(db, input.email);
      if (other && other.id !== target.id) throw new BadRequest('UPDATE_USER_EMAIL_ALREADY_EXISTS');
    }
    const patch: UserPatch = {};
    for (const f of [
      'name',
      'date_of_birth',
      'timezone',
      'email',
      'is_active',
      'is_superuser',
      'is_verified',
    ] as const) {
      if (input[f] !== undefined) (patch as Record<string, unknown>)[f] = input[f];
    }
    if (input.password !== undefined) patch.password_hash = await passwords.hash(input.password, config.bcryptCost);
    if (input.workspace_id !== undefined) {
      patch.workspace_id = input.workspace_id;
      patch.role = input.workspace_id
        ? (input.role ?? (input.workspace_id === target.workspace_id ? target.role : 'member') ?? 'member')
        : null;
    } else if (input.role !== undefined) {
      patch.role = input.role;
    }
    // A password change or a deactivation kills every token the user holds.
    const revokes = input.password !== undefined || (input.is_active === false && target.is_active);
    if (revokes) patch.token_version = target.token_version + 1;
    // A reset link mailed before a new password or to a former address must not work any more.
    const voidsResetLinks = input.password !== undefined || (input.email !== undefined && input.email !== target.email);
    let updated: UserRow;
    try {
      updated = await db.transaction(async (trx) => {
        if (guard) await guard(trx);
        const row = await updateUser(trx, target.id, patch);
        await syncBirthdayForUser(trx, row);
        if (revokes) await revokeUserRefreshTokens(trx, target.id);
        if (voidsResetLinks) await discardPasswordResetTokens(trx, target.id);
        return row;
      });
    } catch (err) {
      // Two writes racing for one email: the unique index decides, and the loser gets the same 400.
      if (err instanceof UniqueViolation) throw new BadRequest('UPDATE_USER_EMAIL_ALREADY_EXISTS');
      throw err;
    }
    await this.deps.principals.forget([target.id]);
    await cache.invalidate(['users', 'birthdays'], [target.workspace_id, updated.workspace_id]);
    return updated;
  }
}
