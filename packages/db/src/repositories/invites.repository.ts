// Workspace invites: single use, expiring, stored hashed.
import type { Conn } from '../connection';
import { pageNewestFirst, type Page, type PageRequest } from '../pagination';

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

/** A pending invite as its workspace's managers see it: never its token (only the hash is stored anyway). */
export interface PendingInvite {
  id: string;
  role: 'member' | 'admin';
  created_by: string | null;
  created_at: Date;
  expires_at: Date;
}

/** A page of a workspace's invites that can still be used (unused and unexpired), newest first. */
export async function listPendingInvites(
  db: Conn,
  workspaceId: string,
  page: PageRequest,
): Promise<Page<PendingInvite>> {
  return pageNewestFirst<PendingInvite>(
    db('workspace_invites')
      .select('id', 'role', 'created_by', 'created_at', 'expires_at')
      .where({ workspace_id: workspaceId })
      .whereNull('used_at')
      .where('expires_at', '>', db.fn.now()),
    page,
    'workspace_invites',
  );
}

/** Deletes an unused invite of this workspace; undefined when there is none (another workspace's, or spent). */
export async function revokeInvite(db: Conn, workspaceId: string, inviteId: string): Promise<InviteRow | undefined> {
  const [inv] = await db('workspace_invites')
    .where({ id: inviteId, workspace_id: workspaceId })
    .whereNull('used_at')
    .delete()
    .returning<InviteRow[]>(['id', 'workspace_id', 'role', 'expires_at']);
  return inv;
}
