// Workspaces: the tenants. The platform admin manages all; a workspace's owners and admins manage their own.
import type { PrincipalCache } from '../auth/principal-cache';
import crypto from 'node:crypto';
import type { Config } from '@nudge/config';
import {
  type Db,
  type WorkspacePatch,
  type WorkspaceScope,
  type WorkspaceView,
  ALL_WORKSPACES,
  UniqueViolation,
  deleteWorkspaceById,
  detachWorkspaceMembers,
  findWorkspaceByName,
  findWorkspaceInScope,
  insertInvite,
  insertWorkspace,
  listPendingInvites,
  listWorkspaces,
  lockWorkspaceForDelete,
  revokeInvite,
  type Page,
  type PageRequest,
  type PendingInvite,
  setWorkspaceSlackWebhook,
  updateWorkspace,
} from '@nudge/db';
import { hashToken, randomToken } from '@nudge/crypto';
import { idScope, isManagerOf, type Principal } from '../auth/principal';
import { BadRequest, Forbidden, NotFound } from '../errors/domain-errors';
import { ALL_KEY, type ListingCache } from '@nudge/cache';
import type { AuditLog } from './audit';

export type WorkspaceInput = WorkspacePatch & { slack_webhook?: string | null };

export class WorkspacesService {
  constructor(
    private readonly deps: { db: Db; config: Config; cache: ListingCache; principals: PrincipalCache; audit: AuditLog },
  ) {}

  async list(p: Principal): Promise<WorkspaceView[]> {
    const { db, cache } = this.deps;
    if (p.user.is_superuser) return cache.getOrLoad('workspaces', ALL_KEY, () => listWorkspaces(db, ALL_WORKSPACES));
    const own = p.user.workspace_id;
    if (!own) return [];
    return cache.getOrLoad('workspaces', own, () => listWorkspaces(db, own));
  }

  async get(p: Principal, id: string): Promise<WorkspaceView> {
    return this.load(idScope(p), id);
  }

  private async load(scope: WorkspaceScope, id: string): Promise<WorkspaceView> {
    const ws = await findWorkspaceInScope(this.deps.db, scope, id);
    if (!ws) throw new NotFound();
    return ws;
  }

  async create(p: Principal, input: WorkspaceInput & { name: string }): Promise<WorkspaceView> {
    const { db, cache } = this.deps;
    if (await findWorkspaceByName(db, input.name)) throw new BadRequest('WORKSPACE_ALREADY_EXISTS');
    const { slack_webhook, ...fields } = input;
    const id = crypto.randomUUID();
    await uniqueName(() =>
      db.transaction(async (trx) => {
        await insertWorkspace(trx, { id, ...fields });
        if (slack_webhook) await setWorkspaceSlackWebhook(trx, id, slack_webhook);
      }),
    );
    await cache.invalidate('workspaces', [id]);
    if (slack_webhook) await this.auditWebhook(p, id, slack_webhook);
    return this.load(ALL_WORKSPACES, id);
  }

  async update(p: Principal, id: string, input: WorkspaceInput & { slack_status?: string }): Promise<WorkspaceView> {
    const { db, cache } = this.deps;
    await this.get(p, id);
    if (!isManagerOf(p, id)) throw new Forbidden();
    if (input.slack_status !== undefined) throw new Forbidden('You may not change: slack_status');
    if (input.name) {
      const other = await findWorkspaceByName(db, input.name);
      if (other && other.id !== id) throw new BadRequest('WORKSPACE_ALREADY_EXISTS');
    }
    const { slack_webhook, slack_status: _ignored, ...fields } = input;
    await uniqueName(() =>
      db.transaction(async (trx) => {
        await updateWorkspace(trx, id, fields);
        // Saving a webhook (even the same one) marks it working again, so a broken workspace can be mended.
        if (slack_webhook !== undefined) await setWorkspaceSlackWebhook(trx, id, slack_webhook);
      }),
    );
    // The birthday order depends on the workspace's timezone; the template and names show in listings too.
    await cache.invalidate(['workspaces', 'birthdays'], [id]);
    if (slack_webhook !== undefined) await this.auditWebhook(p, id, slack_webhook);
    return this.get(p, id);
  }

  /** Owner-only (or the platform admin): an admin manages the workspace but may not end it. */
  async remove(p: Principal, id: string): Promise<void> {
    const { db, cache } = this.deps;
    await this.get(p, id);
    if (!isManagerOf(p, id) || !(p.user.is_superuser || p.user.role === 'owner'))
      throw new Forbidden('Only an owner may delete a workspace');
    await db.transaction(async (trx) => {
      // Locked first, so that no one joins between the detach and the delete: the foreign key would null their
      // workspace_id on the delete but leave their role behind.
      if (!(await lockWorkspaceForDelete(trx, id))) return;
      await detachWorkspaceMembers(trx, id);
      await deleteWorkspaceById(trx, id);
    });
    // Its members lost their workspace and role, and no list of them is left to name.
    await this.deps.principals.forgetAll();
    await cache.invalidate(['workspaces', 'users', 'birthdays'], [id]);
    await this.deps.audit.event('workspace_deleted', {
      userId: p.user.id,
      workspaceId: null,
      targetType: 'workspace',
      targetId: id,
    });
  }

  async invite(
    p: Principal,
    id: string,
    role: 'member' | 'admin',
  ): Promise<{ invite_token: string; expires_at: Date }> {
    await this.get(p, id);
    if (!isManagerOf(p, id)) throw new Forbidden();
    if (role === 'admin' && !p.user.is_superuser && p.user.role !== 'owner')
      throw new Forbidden('Only an owner may invite an admin');
    const token = randomToken(32);
    const invite = await insertInvite(this.deps.db, id, {
      token_hash: hashToken(token),
      role,
      created_by: p.user.id,
      expires_at: new Date(Date.now() + this.deps.config.inviteTtlHours * 3600_000),
    });
    await this.deps.audit.event('invite_created', {
      userId: p.user.id,
      workspaceId: id,
      targetType: 'invite',
      targetId: invite.id,
      details: { role },
    });
    return { invite_token: token, expires_at: invite.expires_at };
  }

  /** The invites that can still be used, for the workspace's managers; members get 403. */
  async listInvites(p: Principal, id: string, page: PageRequest): Promise<Page<PendingInvite>> {
    await this.get(p, id);
    if (!isManagerOf(p, id)) throw new Forbidden();
    return listPendingInvites(this.deps.db, id, page);
  }

  /** Revokes an unused invite; another workspace's (or a spent one) is 404. */
  async revokeInvite(p: Principal, id: string, inviteId: string): Promise<void> {
    await this.get(p, id);
    if (!isManagerOf(p, id)) throw new Forbidden();
    const invite = await revokeInvite(this.deps.db, id, inviteId);
    if (!invite) throw new NotFound();
    await this.deps.audit.event('invite_revoked', {
      userId: p.user.id,
      workspaceId: id,
      targetType: 'invite',
      targetId: invite.id,
      details: { role: invite.role },
    });
  }

  /** A webhook set, replaced or cleared: recorded without the webhook itself (a credential). */
  private async auditWebhook(p: Principal, id: string, webhook: string | null): Promise<void> {
    await this.deps.audit.event(webhook === null ? 'webhook_cleared' : 'webhook_set', {
      userId: p.user.id,
      workspaceId: id,
      targetType: 'workspace',
      targetId: id,
    });
  }
}

/** Two writes racing for one name (in any case): the unique index decides, and the loser gets the same 400. */
async function uniqueName<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (err) {
    if (err instanceof UniqueViolation) throw new BadRequest('WORKSPACE_ALREADY_EXISTS');
    throw err;
  }
}
