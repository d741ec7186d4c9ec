// Tenancy in one place. Every repository function over tenant data takes a scope and applies it here:
// a workspace id, ALL_WORKSPACES (the platform admin only), or null (a caller without a workspace sees nothing).
import type { Knex } from 'knex';

export const ALL_WORKSPACES = Symbol('all-workspaces');
export type WorkspaceScope = string | typeof ALL_WORKSPACES | null;

export function applyScope<Q extends Knex.QueryBuilder>(query: Q, scope: WorkspaceScope, column = 'workspace_id'): Q {
  if (scope === ALL_WORKSPACES) return query;
  if (scope === null) return query.whereRaw('false') as Q;
  return query.where(column, scope) as Q;
}
