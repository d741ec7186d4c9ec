// The API's services, built once per app from its dependencies. Routes receive this container, never the raw
// dependencies (database, Redis, queues), and stay thin.
import type { Config } from '@nudge/config';
import type { AppDeps } from '../deps';
import { signingKey } from '../auth/access-tokens';
import { TokenDenylist } from '../auth/denylist';
import { PrincipalCache } from '../auth/principal-cache';
import { createAuthenticator } from '../auth/authenticate';
import { createPasswords } from '../auth/passwords';
import { AuditLog } from './audit';
import { ListingCache } from '@nudge/cache';
import { AuthRateLimits, SendNowRateLimit } from './rate-limits';
import { AuthService } from './auth.service';
import { UsersService } from './users.service';
import { WorkspacesService } from './workspaces.service';
import { BirthdaysService } from './birthdays.service';
import { RemindersService } from './reminders.service';
import { HealthService } from './health.service';
import { UtilsService } from './utils.service';
import { AuditService } from './audit.service';
import { circuitFor } from '@nudge/queue';
import { ClientsService } from './clients.service';
import { ChannelAccountsService } from './channel-accounts.service';
import { NotificationsService } from './notifications.service';
import { ReminderSendService } from './reminder-send.service';
import { ProviderWebhooksService } from './provider-webhooks.service';
import { UnsubscribeService } from './unsubscribe.service';
import { StripeWebhookService } from './stripe-webhook.service';
import { StripeConnectService } from './stripe-connect.service';
import { PaymentsService } from './payments.service';
import { DashboardService } from './dashboard.service';

export interface Services {
  /** Settings only (no connection): request schemas depend on some, such as the allowed Slack webhook hosts. */
  config: Config;
  limits: AuthRateLimits;
  auth: AuthService;
  users: UsersService;
  workspaces: WorkspacesService;
  birthdays: BirthdaysService;
  reminders: RemindersService;
  health: HealthService;
  utils: UtilsService;
  audit: AuditService;
  clients: ClientsService;
  channelAccounts: ChannelAccountsService;
  notifications: NotificationsService;
  reminderSend: ReminderSendService;
  providerWebhooks: ProviderWebhooksService;
  stripeWebhook: StripeWebhookService;
  unsubscribe: UnsubscribeService;
  stripeConnect: StripeConnectService;
  payments: PaymentsService;
  dashboard: DashboardService;
  guards: ReturnType<typeof createAuthenticator>;
}

export function createServices(deps: AppDeps): Services {
  const { db, redis, config, logger, producers } = deps;
  const key = signingKey(config.jwtSecret);
  const passwords = deps.passwords ?? createPasswords(config.bcryptCost);
  const audit = new AuditLog(db, logger);
  // One circuit per Redis client: while it is open the cache is skipped, the rate limits use their in-memory
  // insurance limiters and the denylist reads PostgreSQL.
  const circuit = circuitFor(redis);
  const cache = new ListingCache(redis, logger, undefined, circuit);
  const denylist = new TokenDenylist(db, circuit, config.accessTokenTtlSeconds);
  const principals = new PrincipalCache(db, circuit);
  const limits = new AuthRateLimits(circuit.gated('rate_limits'), config, logger, audit);
  const users = new UsersService({ db, config, passwords, cache, principals, audit, limits });
  return {
    config,
    limits,
    auth: new AuthService({
      db,
      config,
      logger,
      key,
      denylist,
      principals,
      passwords,
      producers,
      audit,
      cache,
      limits,
    }),
    users,
    workspaces: new WorkspacesService({ db, config, cache, principals, audit }),
    birthdays: new BirthdaysService({ db, cache, users }),
    reminders: new RemindersService({ db, config }),
    health: new HealthService({ db, redis }),
    utils: new UtilsService({ db, producers, cache }),
    audit: new AuditService({ db }),
    clients: new ClientsService({ db }),
    channelAccounts: new ChannelAccountsService({ db, config, audit, producers }),
    notifications: new NotificationsService({ db, producers, logger }),
    reminderSend: new ReminderSendService({ db, producers, logger, limit: new SendNowRateLimit(redis, config) }),
    providerWebhooks: new ProviderWebhooksService({ db, config, logger, audit }),
    stripeWebhook: new StripeWebhookService({ db, config, logger, producers }),
    unsubscribe: new UnsubscribeService({ db, audit }),
    stripeConnect: new StripeConnectService({ db, config, logger, audit }),
    payments: new PaymentsService({ db, producers, logger, audit }),
    dashboard: new DashboardService({ db }),
    guards: createAuthenticator(key, principals),
  };
}
