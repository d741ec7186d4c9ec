// Users. Lookups by email ignore case, matching the unique index on lower(email).
import type { Knex } from 'knex';

export interface UserRow {
  id: string;
  email: string;
  password_hash: string;
  name: string | null;
  date_of_birth: string | null;
  timezone: string;
  workspace_id: string | null;
  role: 'owner' | 'admin' | 'member' | null;
  is_superuser: boolean;
  is_active: boolean;
  is_verified: boolean;
  token_version: number;
  created_at: Date;
  updated_at: Date;
}

export type NewUser = Pick<UserRow, 'email' | 'password_hash'> & Partial<Omit<UserRow, 'id' | 'created_at' | 'updated_at'>>;

export async function findUserByEmail(db: Knex | Knex.Transaction, email: string): Promise<UserRow | undefined> {
  return db<UserRow>('users').whereRaw('lower(email) = lower(?)', [email]).first();
}

export async function findUserById(db: Knex | Knex.Transaction, id: string): Promise<UserRow | undefined> {
  return db<UserRow>('users').where({ id }).first();
}

export async function insertUser(db: Knex | Knex.Transaction, user: NewUser): Promise<UserRow> {
  const [row] = await db<UserRow>('users').insert(user).returning('*');
  return row as UserRow;
}
