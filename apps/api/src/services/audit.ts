// Security events: every one is logged; those that concern a workspace are also written to audit_log.
import type { Db } from '@nudge/db';
import { findUserByEmail, insertAuditEntry } from '@nudge/db';
import type { Logger } from '@nudge/logger';

export interface AuditFacts {
  /** The actor: who did it, when known. */
  userId?: string | null;
  /** The workspace the event belongs to; without one, the event is only logged. */
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
    this.logger.info(`audit: ${action}`, {
      audit: action,
      userId: facts.userId,
      workspaceId: facts.workspaceId,
      targetType: facts.targetType,
      targetId: facts.targetId,
      ip: facts.ip,
      details: facts.details,
    });
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

  /**
   * An event known only by the account name a client tried (a lockout): the account's user, if there is one, is the
   * target and gives the workspace. The actor is unknown, so none is recorded; the IP is.
   */
  async accountEvent(action: string, account: string, facts: Pick<AuditFacts, 'ip' | 'details'>): Promise<void> {
    let user: Awaited<ReturnType<typeof findUserByEmail>>;
    try {
      user = await findUserByEmail(this.db, account.trim());
    } catch (err) {
      this.logger.error(`audit lookup failed for ${action}`, { err });
    }
    await this.event(action, {
      ...facts,
      userId: null,
      workspaceId: user?.workspace_id ?? null,
      targetType: user ? 'user' : undefined,
      targetId: user?.id,
    });
  }
}
