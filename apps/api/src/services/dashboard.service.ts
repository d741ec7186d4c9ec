// The dashboard: one workspace's clients, reminders, notifications and payments in numbers. Always the caller's own
// workspace (the platform admin's too: a summary across tenants is not a thing anyone should read by accident).
import { workspaceDashboard, type DashboardSummary, type Db } from '@nudge/db';
import type { Principal } from '../auth/principal';
import { NoWorkspace } from './birthdays.service';

export const DEFAULT_PERIOD_DAYS = 30;

export type DashboardAnswer = DashboardSummary & { from: Date; to: Date };

export class DashboardService {
  constructor(private readonly deps: { db: Db }) {}

  /** The period is [from, to); without `to` it ends now, without `from` it starts 30 days before its end. */
  async summary(p: Principal, q: { from?: Date; to?: Date }): Promise<DashboardAnswer> {
    const workspaceId = p.user.workspace_id;
    if (!workspaceId) throw new NoWorkspace();
    const now = new Date();
    const to = q.to ?? now;
    const from = q.from ?? new Date(to.getTime() - DEFAULT_PERIOD_DAYS * 86400_000);
    return { from, to, ...(await workspaceDashboard(this.deps.db, workspaceId, { from, to, now })) };
  }
}
