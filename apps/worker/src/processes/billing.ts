// The billing process: Stripe Checkout links, Stripe event reconciliation and the nightly sweep.
import { runProcess } from '../runtime';

runProcess({ name: 'billing', queues: [] });
