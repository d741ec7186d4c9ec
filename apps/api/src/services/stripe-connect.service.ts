// Stripe Connect onboarding: the one Stripe call the API makes itself, since the user waits for the URL. The first
// call creates the workspace's Express account (idempotency key from the workspace id, so two racing calls get the
// same account) and stores it; every call answers a fresh Account Link. The whole exchange has STRIPE_TIMEOUT_MS
// (10 s): past it, or with Stripe failing, the answer is 503 and nothing half-made is lost (a created account is
// stored before its link is asked for, and the next call reuses it).
import type { Config } from '@nudge/config';
import { claimWorkspaceStripeAccount, findWorkspaceStripeAccount, type Db } from '@nudge/db';
import type { Logger } from '@nudge/logger';
import { createPlatformStripeAdapter, isProviderError, type StripeAdapter } from '@nudge/channels';
import { idScope, isManagerOf, type Principal } from '../auth/principal';
import { Forbidden, NotFound, Unavailable } from '../errors/domain-errors';
import type { AuditLog } from './audit';

export interface ConnectResult {
  onboarding_url: string;
}

/** Where Stripe sends the business after onboarding, and when its link has expired (a new call makes a new one). */
export function onboardingUrls(publicBaseUrl: string, workspaceId: string): { returnUrl: string; refreshUrl: string } {
  const base = `${publicBaseUrl.replace(/\/+$/, '')}/workspaces/${workspaceId}`;
  return { returnUrl: base, refreshUrl: `${base}/stripe/connect` };
}

export class StripeConnectService {
  private adapter: StripeAdapter | undefined;

  constructor(private readonly deps: { db: Db; config: Config; logger: Logger; audit: AuditLog }) {}

  async connect(p: Principal, workspaceId: string, ip?: string): Promise<ConnectResult> {
    const { db, config, logger } = this.deps;
    const ws = await findWorkspaceStripeAccount(db, idScope(p), workspaceId);
    if (!ws) throw new NotFound();
    if (!isManagerOf(p, ws.workspace_id)) throw new Forbidden();
    const stripe = this.stripe();
    const deadline = Date.now() + config.stripe.timeoutMs;
    const left = () => Math.max(1, deadline - Date.now());
    try {
      let accountId = ws.stripe_account_id;
      if (!accountId) {
        const created = await stripe.createConnectAccount({
          idempotencyKey: `connect-${ws.workspace_id}`,
          timeoutMs: left(),
        });
        accountId = await claimWorkspaceStripeAccount(db, ws.workspace_id, created.id);
        await this.deps.audit.event('stripe.connect_account_created', {
          userId: p.user.id,
          workspaceId: ws.workspace_id,
          ip,
          targetType: 'workspace',
          targetId: ws.workspace_id,
          details: { stripe_account_id: accountId },
        });
      }
      const link = await stripe.createAccountLink(accountId, onboardingUrls(config.publicBaseUrl, ws.workspace_id), {
        timeoutMs: left(),
      });
      return { onboarding_url: link.url };
    } catch (err) {
      if (!isProviderError(err)) throw err;
      logger.warn('stripe connect onboarding failed', { code: err.code, status: err.status, workspaceId });
      throw new Unavailable(
        err.code === 'timeout' ? 'Stripe did not answer in time; try again' : 'Stripe is unavailable; try again',
      );
    }
  }

  /** Built on first use: nothing talks to Stripe at start-up. */
  private stripe(): StripeAdapter {
    this.adapter ??= createPlatformStripeAdapter(this.deps.config.stripe);
    if (!this.adapter) throw new Unavailable('Stripe is not configured on this server');
    return this.adapter;
  }
}
