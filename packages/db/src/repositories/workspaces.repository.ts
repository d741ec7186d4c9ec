// Workspaces: the tenants. The Slack webhook is a secret: it is read in plaintext only through
// getWorkspaceSlackWebhook, by the worker that posts, and never selected into a listing. Listings show the hint
// stored beside it when it was saved, so no read decrypts, and a ciphertext that no longer decrypts (a key retired
// too early, a restored backup) cannot break a workspace's reads.
import type { Knex } from 'knex';
import type { Conn } from '../connection';
import { getFieldCipher } from '@nudge/crypto';
import { fieldContext, SLACK_WEBHOOK_COLUMN } from '../encrypted-columns';
import { applyScope, type WorkspaceScope } from '../scope';

export interface WorkspaceRow {
  id: string;
  name: string;
  timezone: string;
  birthday_post_time: string;
  birthday_message_template: string | null;
  leap_day_rule: 'feb28' | 'mar1';
  slack_webhook: string | null;
  /** The masked webhook, written with it: what listings show. */
  slack_webhook_hint: string | null;
  slack_status: 'ok' | 'broken' | 'undecryptable';
  sender_name: string | null;
  default_channels: string[];
  currency: string;
  /** The Stripe Connect account the workspace's clients pay into (null until onboarding starts). */
  stripe_account_id: string | null;
  stripe_charges_enabled: boolean;
  /** Mail the owner when a client pays. */
  notify_on_payment: boolean;
  created_at: Date;
  updated_at: Date;
}

export async function findWorkspaceById(db: Conn, id: string): Promise<WorkspaceRow | undefined> {
  return db<WorkspaceRow>('workspaces').where({ id }).first();
}

/** The webhook URL in plaintext, for the Slack adapter only. */
export async function getWorkspaceSlackWebhook(db: Conn, workspaceId: string): Promise<string | null> {
  const row = await db<WorkspaceRow>('workspaces').where({ id: workspaceId }).first('slack_webhook');
  // Stored encrypted, bound to this row; a value that fails to decrypt throws DecryptionError.
  return row?.slack_webhook
    ? getFieldCipher().decrypt(row.slack_webhook, fieldContext(SLACK_WEBHOOK_COLUMN, workspaceId))
    : null;
}

/** Stores a new webhook URL (or clears it); a changed webhook is presumed working again. */
export async function setWorkspaceSlackWebhook(db: Conn, workspaceId: string, url: string | null): Promise<void> {
  const stored = url === null ? null : getFieldCipher().encrypt(url, fieldContext(SLACK_WEBHOOK_COLUMN, workspaceId));
  await db('workspaces')
    .where({ id: workspaceId })
    .update({
      slack_webhook: stored,
      slack_webhook_hint: maskSlackWebhook(url),
      slack_status: 'ok',
      updated_at: db.fn.now(),
    });
}

/** The stored webhook no longer decrypts: kept as it is (a restored key may read it again), flagged for the owner. */
export async function markSlackUndecryptable(db: Conn, workspaceId: string): Promise<void> {
  await db('workspaces').where({ id: workspaceId }).update({ slack_status: 'undecryptable', updated_at: db.fn.now() });
}

export async function markSlackBroken(db: Conn, workspaceId: string): Promise<void> {
  await db('workspaces').where({ id: workspaceId }).update({ slack_status: 'broken', updated_at: db.fn.now() });
}

/** Every column but the webhook ciphertext; listings report only whether a webhook is set and its masked form. */
const PUBLIC_COLUMNS = [
  'id',
  'name',
  'timezone',
  'birthday_post_time',
  'birthday_message_template',
  'leap_day_rule',
  'slack_status',
  'slack_webhook_hint',
  'sender_name',
  'default_channels',
  'currency',
  'stripe_account_id',
  'stripe_charges_enabled',
  'notify_on_payment',
  'created_at',
  'updated_at',
] as const;

export type WorkspaceView = Omit<WorkspaceRow, 'slack_webhook' | 'slack_webhook_hint'> & {
  slack_webhook_masked: string | null;
};

/** `<scheme>://<host>/services/****` and the URL's last 4 characters: enough to recognise, never enough to use. */
export function maskSlackWebhook(url: string | null): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}/services/****${url.slice(-4)}`;
  } catch {
    return `****${url.slice(-4)}`;
  }
}

export type WorkspacePatch = Partial<
  Pick<
    WorkspaceRow,
    | 'name'
    | 'timezone'
    | 'birthday_post_time'
    | 'birthday_message_template'
    | 'leap_day_rule'
    | 'slack_status'
    | 'sender_name'
    | 'default_channels'
    | 'currency'
    | 'notify_on_payment'
  >
>;

function withHint({ slack_webhook_hint, ...row }: Omit<WorkspaceRow, 'slack_webhook'>): WorkspaceView {
  return { ...row, slack_webhook_masked: slack_webhook_hint };
}

export async function listWorkspaces(db: Conn, scope: WorkspaceScope): Promise<WorkspaceView[]> {
  const rows = await applyScope(db<WorkspaceRow>('workspaces').select(...PUBLIC_COLUMNS), scope, 'id').orderBy([
    { column: 'name' },
    { column: 'id' },
  ]);
  return rows.map(withHint);
}

export async function findWorkspaceInScope(
  db: Conn,
  scope: WorkspaceScope,
  id: string,
): Promise<WorkspaceView | undefined> {
  const row = await applyScope(
    db<WorkspaceRow>('workspaces')
      .select(...PUBLIC_COLUMNS)
      .where({ id }),
    scope,
    'id',
  ).first();
  return row ? withHint(row) : undefined;
}

export async function findWorkspaceByName(db: Conn, name: string): Promise<{ id: string } | undefined> {
  return db('workspaces').whereRaw('lower(name) = lower(?)', [name]).first('id');
}

export async function insertWorkspace(db: Conn, ws: { id?: string; name: string } & WorkspacePatch): Promise<string> {
  const [row] = await db('workspaces').insert(ws).returning<{ id: string }[]>('id');
  return (row as { id: string }).id;
}

export async function updateWorkspace(db: Conn, id: string, patch: WorkspacePatch): Promise<void> {
  if (Object.keys(patch).length === 0) return;
  await db('workspaces')
    .where({ id })
    .update({ ...patch, updated_at: db.fn.now() });
}

/**
 * Locks a workspace that is about to be deleted, until the transaction ends, so that no one joins it unseen: its
 * invites first, then its row, the order in which a registration takes them (it spends the invite, then its new user's
 * foreign key share-locks the workspace). A registration that spent its invite just before is waited for and then
 * detached with the rest; one that comes after finds its invite gone.
 */
export async function lockWorkspaceForDelete(trx: Knex.Transaction, id: string): Promise<boolean> {
  await trx('workspace_invites').where({ workspace_id: id }).orderBy('id').forUpdate().select('id');
  return !!(await trx('workspaces').where({ id }).forUpdate().first('id'));
}

export async function deleteWorkspaceById(db: Conn, id: string): Promise<boolean> {
  return (await db('workspaces').where({ id }).delete()) > 0;
}
