// Every route of the API, in one list: the router and the OpenAPI document are both built from it.
import type { RouteSpec } from '../http/route';
import type { Services } from '../services';
import { healthRoutes } from './health/health.router';
import { utilsRoutes } from './utils/utils.router';
import { authRoutes } from './auth/auth.router';
import { usersRoutes } from './users/users.router';
import { workspacesRoutes } from './workspaces/workspaces.router';
import { birthdaysRoutes } from './birthdays/birthdays.router';
import { auditRoutes } from './audit/audit.router';
import { clientsRoutes } from './clients/clients.router';
import { channelAccountsRoutes } from './channel-accounts/channel-accounts.router';
import { remindersRoutes } from './reminders/reminders.router';
import { notificationsRoutes } from './notifications/notifications.router';
import { webhooksRoutes } from './webhooks/webhooks.router';
import { unsubscribeRoutes } from './unsubscribe/unsubscribe.router';
import { paymentsRoutes } from './payments/payments.router';
import { dashboardRoutes } from './dashboard/dashboard.router';
import { adminRoutes } from './admin/admin.router';

export function allRoutes(services: Services): RouteSpec[] {
  return [
    ...healthRoutes(services),
    ...authRoutes(services),
    ...usersRoutes(services),
    ...workspacesRoutes(services),
    ...birthdaysRoutes(services),
    ...clientsRoutes(services),
    ...channelAccountsRoutes(services),
    ...remindersRoutes(services),
    ...notificationsRoutes(services),
    ...paymentsRoutes(services),
    ...dashboardRoutes(services),
    ...utilsRoutes(services),
    ...auditRoutes(services),
    ...webhooksRoutes(services),
    ...unsubscribeRoutes(services),
    ...adminRoutes(services),
  ];
}
