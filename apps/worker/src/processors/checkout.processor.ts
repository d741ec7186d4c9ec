// billing-checkout: a payment's Checkout Session ({kind:'checkout'}) or its cancellation ({kind:'cancel'}), see
// ../billing/checkout.ts. The Stripe adapter is the process's one (built from config; nothing is called at start-up).
import { getDb } from '@nudge/db';
import { UnrecoverableError, type CheckoutJob, type Job } from '@nudge/queue';
import type { StripeAdapter } from '@nudge/channels';
import type { WorkerContext } from '../runtime';
import { dispatchJobsOn, type DispatchJobs } from '../dispatch/dispatch-jobs';
import {
  runCancel,
  runCheckout,
  type CancelOutcome,
  type CheckoutDeps,
  type CheckoutOutcome,
} from '../billing/checkout';

export interface CheckoutProcessorDeps {
  stripe: StripeAdapter | undefined;
  db?: CheckoutDeps['db'];
  jobs?: DispatchJobs;
}

export function createCheckoutProcessor(overrides: CheckoutProcessorDeps) {
  let jobs: DispatchJobs | undefined = overrides.jobs;
  return async (job: Job<CheckoutJob>, ctx: WorkerContext): Promise<CheckoutOutcome | CancelOutcome> => {
    jobs ??= dispatchJobsOn(ctx.producers);
    const deps: CheckoutDeps = {
      db: overrides.db ?? getDb(),
      stripe: overrides.stripe,
      config: ctx.config,
      jobs,
      logger: ctx.logger,
    };
    if (job.data.kind === 'checkout') return runCheckout(job.data.paymentId, deps);
    if (job.data.kind === 'cancel') return runCancel(job.data.paymentId, deps);
    throw new UnrecoverableError('unsupported billing-checkout kind');
  };
}
