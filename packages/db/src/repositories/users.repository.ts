// Users. Lookups by email ignore case, matching the unique index on lower(email). Listing and reading another user
// go through a workspace scope; the caller's own lookup (authentication) does not need one.
import type { Knex } from 'knex';
import type { Conn } from '../connection';
import { applyScope, type WorkspaceScope } from '../scope';

export type Role = 'owner' | 'admin' | 'member';

export interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  name: string | null;
  date_of_birth: string | null;
  timezone: string;
  workspace_id: string | null;
  role: Role | null;
  is_superuser: boolean;
  is_active: boolean;
  is_verified: boolean;
  token_version: number;
  created_at: Date;
  updated_at: Date;
}

export type NewUser = Pick<UserRow, 'email' | 'password_hash'> &
  Partial<Omit<UserRow, 'id' | 'created_at' | 'updated_at'>>;
export type UserPatch = Partial<Omit<UserRow, 'id' | 'created_at' | 'updated_at'>>;

export async function findUserByEmail(db: Conn, email: string): Promise<UserRow | undefined> {
  return db<UserRow>('users').whereRaw('lower(email) = lower(?)', [email]).first();
}

/** The authenticated caller's own row: the one lookup the auth middleware makes per request. */
export async function findUserById(db: Conn, id: string): Promise<UserRow | undefined> {
  return db<UserRow>('users').where({ id }).first();
}

export async function findUserInScope(db: Conn, scope: WorkspaceScope, id: string): Promise<UserRow | undefined> {
  return applyScope(db<UserRow>('users').where({ id }), scope).first();
}

export async function listUsers(db: Conn, scope: WorkspaceScope): Promise<UserRow[]> {
  return applyScope(db<UserRow>('users'), scope).orderBy([{ column: 'created_at' }, { column: 'id' }]);
}

export async function insertUser(db: Conn, user: NewUser): Promise<UserRow> {
  const [row] = await db<UserRow>('users').insert(user).returning('*');
  return row as UserRow;
}

export async function updateUser(db: Conn, id: string, patch: UserPatch): Promise<UserRow> {
  const [row] = await db<UserRow>('users')
    .where({ id })
    .update({ ...patch, updated_at: db.fn.now() as unknown as Date })
    .returning('*');
  return row as UserRow;
}

export async function bumpTokenVersion(db: Conn, id: string): Promise<void> {
  await db('users').where({ id }).increment('token_version', 1).update({ updated_at: db.fn.now() });
}

export async function deleteUserById(db: Conn, id: string): Promise<boolean> {
  return (await db('users').where({ id }).delete()) > 0;
}

/**
 * A workspace's owners, counted with their rows locked until the transaction ends: two owners demoting each other
 * at once would otherwise both see two owners and leave none.
 */
export async function countOwnersForUpdate(trx: Knex.Transaction, workspaceId: string): Promise<number> {
  const rows = await trx('users')
    .where({ workspace_id: workspaceId, role: 'owner' })
    .orderBy('id')
    .forUpdate()
    .select('id');
  return rows.length;
}

/** Detaches every member from a workspace that is being deleted; no foreign-key rule can null the role. */
export async function detachWorkspaceMembers(db: Conn, workspaceId: string): Promise<void> {
  await db('users')
    .where({ workspace_id: workspaceId })
    .update({ workspace_id: null, role: null, updated_at: db.fn.now() });
}
