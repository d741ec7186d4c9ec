import type { Conn } from '../connection';
import { applyScope, type WorkspaceScope } from '../scope';
import { pageNewestFirst, type Page, type PageRequest } from '../pagination';

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

export interface AuditRow {
  id: string;
  workspace_id: string | null;
  actor_id: string | null;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: Record<string, unknown>;
  ip: string | null;
  created_at: Date;
}

/** A page of a workspace's entries (every entry for ALL_WORKSPACES), newest first. */
export async function listAuditEntries(db: Conn, scope: WorkspaceScope, page: PageRequest): Promise<Page<AuditRow>> {
  return pageNewestFirst<AuditRow>(applyScope(db('audit_log').select('audit_log.*'), scope), page, 'audit_log');
}
