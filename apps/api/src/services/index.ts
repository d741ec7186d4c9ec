// The API's services, built once per app from its dependencies. Routes receive this container and stay thin.
import type { AppDeps } from '../deps';
import { signingKey } from '../auth/access-tokens';
import { TokenDenylist } from '../auth/denylist';
import { AuthService } from '../auth/auth.service';
import { createAuthenticator } from '../auth/authenticate';
import { createPasswords, type Passwords } from '../auth/passwords';
import { AuditLog } from './audit';
import { ListingCache } from '@nudge/cache';
import { AuthRateLimits } from './rate-limits';
import { UsersService } from './users.service';
import { WorkspacesService } from './workspaces.service';
import { BirthdaysService } from './birthdays.service';

export interface Services extends AppDeps {
  passwords: Passwords;
  audit: AuditLog;
  cache: ListingCache;
  limits: AuthRateLimits;
  auth: AuthService;
  users: UsersService;
  workspaces: WorkspacesService;
  birthdays: BirthdaysService;
  guards: ReturnType<typeof createAuthenticator>;
}

export function createServices(deps: AppDeps): Services {
  const { db, redis, config, logger, producers } = deps;
  const key = signingKey(config.jwtSecret);
  const passwords = deps.passwords ?? createPasswords(config.bcryptCost);
  const audit = new AuditLog(db, logger);
  const cache = new ListingCache(redis, logger);
  const denylist = new TokenDenylist(db, redis, logger);
  const users = new UsersService({ db, config, passwords, cache, audit });
  return {
    ...deps,
    passwords,
    audit,
    cache,
    limits: new AuthRateLimits(redis, config, logger, audit),
    auth: new AuthService({ db, config, logger, key, denylist, passwords, producers, audit, cache }),
    users,
    workspaces: new WorkspacesService({ db, config, cache, audit }),
    birthdays: new BirthdaysService({ db, cache, users }),
    guards: createAuthenticator(db, key, denylist),
  };
}
