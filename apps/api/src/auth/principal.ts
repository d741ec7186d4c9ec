// Who is calling, resolved once per request by the authentication middleware.
import { ALL_WORKSPACES, type UserRow, type WorkspaceScope } from '@nudge/db';
import type { AccessClaims } from './access-tokens';

export interface Principal {
  /** Shared with other requests through the principal cache: never to be changed. */
  user: Readonly<UserRow>;
  claims: AccessClaims;
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** The workspace whose listings the caller sees: their own, or none. */
export function ownScope(p: Principal): WorkspaceScope {
  return p.user.workspace_id;
}

/** Which rows the caller may address by id: the platform admin any, everyone else their own workspace's. */
export function idScope(p: Principal): WorkspaceScope {
  return p.user.is_superuser ? ALL_WORKSPACES : p.user.workspace_id;
}

export function isManagerOf(p: Principal, workspaceId: string | null): boolean {
  if (p.user.is_superuser) return true;
  return !!workspaceId && p.user.workspace_id === workspaceId && (p.user.role === 'owner' || p.user.role === 'admin');
}
