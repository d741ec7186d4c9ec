// Security events: every one is logged; those that concern a workspace are also written to audit_log.
import type { Db } from '@nudge/db';
import { insertAuditEntry } from '@nudge/db';
import type { Logger } from '@nudge/logger';

export interface AuditFacts {
  userId?: string | null;
  workspaceId: string | null | undefined;
  ip?: string;
  targetType?: string;
  targetId?: string;
  details?: Record<string, unknown>;
}

export class AuditLog {
  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  async event(action: string, facts: AuditFacts): Promise<void> {
    this.logger.info(`audit: ${action}`, { audit: action, userId: facts.userId, workspaceId: facts.workspaceId, targetId: facts.targetId, ip: facts.ip });
    if (!facts.workspaceId) return;
    try {
      await insertAuditEntry(this.db, {
        workspace_id: facts.workspaceId,
        actor_id: facts.userId ?? null,
        action,
        target_type: facts.targetType ?? null,
        target_id: facts.targetId ?? null,
        details: facts.details,
        ip: facts.ip ?? null,
      });
    } catch (err) {
      // An audit write must never turn a successful action into an error for the caller.
      this.logger.error(`audit write failed for ${action}`, { err });
    }
  }
}
