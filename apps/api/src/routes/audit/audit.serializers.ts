// The wire shape of an audit entry.
import type { AuditRow } from '@nudge/db';

export function serializeAuditEntry(a: AuditRow) {
  return {
    id: a.id,
    workspace_id: a.workspace_id,
    actor_id: a.actor_id,
    action: a.action,
    target_type: a.target_type,
    target_id: a.target_id,
    details: a.details,
    ip: a.ip,
    created_at: a.created_at,
  };
}
