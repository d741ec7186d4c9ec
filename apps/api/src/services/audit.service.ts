// Reading the audit trail: a workspace's owners and admins see its entries, the platform admin every entry (those
// of deleted workspaces too, whose workspace_id is now null). Members see none. Writing is AuditLog's (audit.ts).
import { ALL_WORKSPACES, listAuditEntries, type AuditRow, type Db, type Page, type PageRequest } from '@nudge/db';
import { isManagerOf, type Principal } from '../auth/principal';
import { Forbidden } from '../errors/domain-errors';

export class AuditService {
  constructor(private readonly deps: { db: Db }) {}

  async list(p: Principal, page: PageRequest): Promise<Page<AuditRow>> {
    if (p.user.is_superuser) return listAuditEntries(this.deps.db, ALL_WORKSPACES, page);
    const own = p.user.workspace_id;
    if (!own || !isManagerOf(p, own)) throw new Forbidden('Only an owner or admin may read the audit trail');
    return listAuditEntries(this.deps.db, own, page);
  }
}
