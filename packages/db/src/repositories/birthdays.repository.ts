// Birthdays. A user has a row exactly when they have both a workspace and a date of birth; syncBirthdayForUser
// keeps it so and must run in the same transaction as every user write. Standalone rows (no user) belong to admins.
import type { Conn } from '../connection';
import { applyScope, type WorkspaceScope } from '../scope';
import type { UserRow } from './users.repository';

export interface BirthdayRow {
  id: string;
  user_id: string | null;
  workspace_id: string;
  name: string;
  date_of_birth: string;
  birth_md: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = ['id', 'user_id', 'workspace_id', 'name', 'date_of_birth', 'created_at', 'updated_at'] as const;

/** A birthday shows the user's name, or the part of the email before the @; never a whole address. */
export function birthdayDisplayName(user: Pick<UserRow, 'name' | 'email'>): string {
  const name = user.name?.trim();
  return name ? name : (user.email.split('@')[0] ?? 'someone');
}

export type SyncOutcome = 'created' | 'updated' | 'removed' | 'unchanged';

export async function syncBirthdayForUser(db: Conn, user: UserRow): Promise<SyncOutcome> {
  if (!user.workspace_id || !user.date_of_birth) {
    const removed = await db('birthdays').where({ user_id: user.id }).delete();
    return removed > 0 ? 'removed' : 'unchanged';
  }
  const name = birthdayDisplayName(user);
  // The WHERE on the conflict branch leaves an identical row alone, so "updated" means the values changed.
  const rows = await db.raw<{ rows: { inserted: boolean }[] }>(
    `INSERT INTO birthdays (user_id, workspace_id, name, date_of_birth) VALUES (?, ?, ?, ?)
     ON CONFLICT (user_id) DO UPDATE SET workspace_id = EXCLUDED.workspace_id, name = EXCLUDED.name,
       date_of_birth = EXCLUDED.date_of_birth, updated_at = now()
     WHERE (birthdays.workspace_id, birthdays.name, birthdays.date_of_birth) IS DISTINCT FROM
           (EXCLUDED.workspace_id, EXCLUDED.name, EXCLUDED.date_of_birth)
     RETURNING (xmax = 0) AS inserted`,
    [user.id, user.workspace_id, name, user.date_of_birth],
  );
  const row = rows.rows[0];
  if (!row) return 'unchanged';
  return row.inserted ? 'created' : 'updated';
}

export async function listBirthdays(db: Conn, scope: WorkspaceScope): Promise<BirthdayRow[]> {
  return applyScope(db<BirthdayRow>('birthdays').select(...COLUMNS, 'birth_md'), scope).orderBy([
    { column: 'name' },
    { column: 'id' },
  ]);
}

export async function findBirthday(db: Conn, scope: WorkspaceScope, id: string): Promise<BirthdayRow | undefined> {
  return applyScope(
    db<BirthdayRow>('birthdays')
      .select(...COLUMNS, 'birth_md')
      .where({ id }),
    scope,
  ).first();
}

export async function insertStandaloneBirthday(
  db: Conn,
  workspaceId: string,
  b: { name: string; date_of_birth: string },
): Promise<BirthdayRow> {
  const [row] = await db<BirthdayRow>('birthdays')
    .insert({ workspace_id: workspaceId, name: b.name, date_of_birth: b.date_of_birth })
    .returning([...COLUMNS, 'birth_md']);
  return row as BirthdayRow;
}

export async function updateBirthdayRow(
  db: Conn,
  workspaceId: string,
  id: string,
  patch: { name?: string; date_of_birth?: string },
): Promise<BirthdayRow | undefined> {
  const [row] = await db<BirthdayRow>('birthdays')
    .where({ id, workspace_id: workspaceId })
    .update({ ...patch, updated_at: db.fn.now() as unknown as Date })
    .returning([...COLUMNS, 'birth_md']);
  return row;
}

export async function deleteBirthdayRow(db: Conn, workspaceId: string, id: string): Promise<boolean> {
  return (await db('birthdays').where({ id, workspace_id: workspaceId }).delete()) > 0;
}

/** Users who should have a birthday row and have none. */
export async function usersMissingBirthday(db: Conn): Promise<UserRow[]> {
  return db<UserRow>('users as u')
    .select('u.*')
    .whereNotNull('u.workspace_id')
    .whereNotNull('u.date_of_birth')
    .whereNotExists(db('birthdays as b').whereRaw('b.user_id = u.id'));
}

/** Users who have a workspace and a date of birth (their rows are re-synced by the refresh utility). */
export async function usersWithBirthdays(db: Conn): Promise<UserRow[]> {
  return db<UserRow>('users').whereNotNull('workspace_id').whereNotNull('date_of_birth');
}

/** Linked rows whose user is gone or no longer qualifies. Standalone rows (no user_id) are never orphans. */
export async function deleteOrphanBirthdays(db: Conn): Promise<number> {
  return db('birthdays as b')
    .whereNotNull('b.user_id')
    .whereNotExists(
      db('users as u').whereRaw('u.id = b.user_id').whereNotNull('u.workspace_id').whereNotNull('u.date_of_birth'),
    )
    .delete();
}
