// A workspace's Stripe Connect account: the account its clients pay into. Set once, by the first onboarding call;
// a later call reuses it.
import type { Conn } from '../connection';
import { applyScope, type WorkspaceScope } from '../scope';

export interface WorkspaceStripeAccount {
  workspace_id: string;
  stripe_account_id: string | null;
  stripe_charges_enabled: boolean;
}

/** The workspace's Connect account, within the caller's scope (undefined: no such workspace for this caller). */
export async function findWorkspaceStripeAccount(
  db: Conn,
  scope: WorkspaceScope,
  workspaceId: string,
): Promise<WorkspaceStripeAccount | undefined> {
  return applyScope(db('workspaces').where({ id: workspaceId }), scope, 'id').first(
    'id as workspace_id',
    'stripe_account_id',
    'stripe_charges_enabled',
  ) as Promise<WorkspaceStripeAccount | undefined>;
}

/**
 * Records the workspace's Connect account unless one is already there (two onboarding calls that raced), and
 * answers the account the workspace ends up with.
 */
export async function claimWorkspaceStripeAccount(db: Conn, workspaceId: string, accountId: string): Promise<string> {
  await db('workspaces')
    .where({ id: workspaceId })
    .whereNull('stripe_account_id')
    .update({ stripe_account_id: accountId, updated_at: db.fn.now() });
  const row = await db<{ id: string; stripe_account_id: string | null }>('workspaces')
    .where({ id: workspaceId })
    .first('stripe_account_id');
  return row?.stripe_account_id ?? accountId;
}
