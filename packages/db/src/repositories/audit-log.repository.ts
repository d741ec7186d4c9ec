import type { Conn } from '../connection';
import { applyScope, type WorkspaceScope } from '../scope';

export interface AuditEntry {
  workspace_id: string;
  actor_id: string | null;
  action: string;
  target_type?: string | null;
  target_id?: string | null;
  details?: Record<string, unknown>;
  ip?: string | null;
}

export async function insertAuditEntry(db: Conn, entry: AuditEntry): Promise<void> {
  await db('audit_log').insert({ ...entry, details: JSON.stringify(entry.details ?? {}) });
}

export async function listAuditEntries(
  db: Conn,
  scope: WorkspaceScope,
  limit = 100,
): Promise<(AuditEntry & { id: string; created_at: Date })[]> {
  return applyScope(db('audit_log'), scope).orderBy('created_at', 'desc').limit(limit);
}
