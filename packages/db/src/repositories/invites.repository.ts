// Workspace invites: single use, expiring, stored hashed.
import type { Conn } from '../connection';

export interface InviteRow {
  id: string;
  workspace_id: string;
  role: 'member' | 'admin';
  expires_at: Date;
}

export async function insertInvite(
  db: Conn,
  workspaceId: string,
  row: { token_hash: string; role: 'member' | 'admin'; created_by: string; expires_at: Date },
): Promise<InviteRow> {
  const [inv] = await db('workspace_invites')
    .insert({ ...row, workspace_id: workspaceId })
    .returning<InviteRow[]>(['id', 'workspace_id', 'role', 'expires_at']);
  return inv as InviteRow;
}

/** Spends an invite atomically; a bad, expired or used one gives undefined. */
export async function consumeInvite(
  db: Conn,
  tokenHash: string,
  userId: string | null,
): Promise<InviteRow | undefined> {
  const [inv] = await db('workspace_invites')
    .where({ token_hash: tokenHash })
    .whereNull('used_at')
    .where('expires_at', '>', db.fn.now())
    .update({ used_at: db.fn.now(), used_by: userId })
    .returning<InviteRow[]>(['id', 'workspace_id', 'role', 'expires_at']);
  return inv;
}

export async function setInviteUsedBy(db: Conn, tokenHash: string, userId: string): Promise<void> {
  await db('workspace_invites').where({ token_hash: tokenHash }).update({ used_by: userId });
}
