// A workspace's own provider accounts: SendGrid or SMTP for email, Twilio for SMS and WhatsApp. The secrets (SendGrid
// key, SMTP URL, Twilio auth token) are one JSON object encrypted into `credentials`, bound to the row id; this module
// alone encrypts and decrypts it. The API shows only whether each secret is set; workers read it in plaintext to
// build an adapter (findActiveChannelAccount, findChannelAccountById).
import { randomUUID } from 'node:crypto';
import { DecryptionError, getFieldCipher } from '@nudge/crypto';
import type { Conn } from '../connection';
import { CHANNEL_ACCOUNT_CREDENTIALS_COLUMN, fieldContext } from '../encrypted-columns';
import { applyScope, type WorkspaceScope } from '../scope';

export type AccountChannel = 'email' | 'sms' | 'whatsapp';
export type AccountProvider = 'sendgrid' | 'smtp' | 'twilio';

/** The secrets of an account; which ones depends on its provider. */
export interface ChannelAccountCredentials {
  /** SendGrid API key. */
  api_key?: string;
  /** SMTP connection URL, smtp[s]://user:password@host:port. */
  smtp_url?: string;
  /** Twilio auth token. */
  auth_token?: string;
}

interface ChannelAccountDbRow {
  id: string;
  workspace_id: string;
  channel: AccountChannel;
  provider: AccountProvider;
  name: string | null;
  from_email: string | null;
  from_name: string | null;
  account_sid: string | null;
  sms_from: string | null;
  whatsapp_from: string | null;
  credentials: string | null;
  is_active: boolean;
  last_test_at: Date | null;
  last_test_status: 'queued' | 'ok' | 'failed' | null;
  last_test_error: string | null;
  created_at: Date;
  updated_at: Date;
}

/** An account with its secrets in plaintext; `credentials` is null when the stored ones no longer decrypt. */
export type ChannelAccountRow = Omit<ChannelAccountDbRow, 'credentials'> & {
  credentials: ChannelAccountCredentials | null;
};

/** What a caller sets besides the secrets. */
export type ChannelAccountFields = Pick<
  ChannelAccountDbRow,
  'name' | 'from_email' | 'from_name' | 'account_sid' | 'sms_from' | 'whatsapp_from' | 'is_active'
>;

function encrypt(id: string, credentials: ChannelAccountCredentials): string {
  return getFieldCipher().encrypt(JSON.stringify(credentials), fieldContext(CHANNEL_ACCOUNT_CREDENTIALS_COLUMN, id));
}

function decode({ credentials, ...row }: ChannelAccountDbRow): ChannelAccountRow {
  if (!credentials) return { ...row, credentials: {} };
  try {
    const plain = getFieldCipher().decrypt(credentials, fieldContext(CHANNEL_ACCOUNT_CREDENTIALS_COLUMN, row.id));
    return { ...row, credentials: JSON.parse(plain) as ChannelAccountCredentials };
  } catch (err) {
    // Under a retired key, or copied from another row: unusable, but the account's reads must not fail on it.
    if (!(err instanceof DecryptionError)) throw err;
    return { ...row, credentials: null };
  }
}

/** An account read as JSON (`row_to_json`, in a join), decoded as a row read directly would be. */
export function channelAccountFromJson(json: Record<string, unknown>): ChannelAccountRow {
  const at = (v: unknown) => (typeof v === 'string' ? new Date(v) : null);
  const row = json as unknown as ChannelAccountDbRow;
  return decode({
    ...row,
    created_at: at(json.created_at) as Date,
    updated_at: at(json.updated_at) as Date,
    last_test_at: at(json.last_test_at),
  });
}

export async function insertChannelAccount(
  db: Conn,
  workspaceId: string,
  account: Partial<ChannelAccountFields> & Pick<ChannelAccountDbRow, 'channel' | 'provider'>,
  credentials: ChannelAccountCredentials,
): Promise<ChannelAccountRow> {
  const id = randomUUID();
  const [row] = await db('channel_accounts')
    .insert({ id, workspace_id: workspaceId, ...account, credentials: encrypt(id, credentials) })
    .returning<ChannelAccountDbRow[]>('*');
  return decode(row as ChannelAccountDbRow);
}

export async function findChannelAccount(
  db: Conn,
  scope: WorkspaceScope,
  id: string,
): Promise<ChannelAccountRow | undefined> {
  const row = await applyScope(db<ChannelAccountDbRow>('channel_accounts').where({ id }), scope).first();
  return row ? decode(row) : undefined;
}

/** Where a listing page starts: after this (channel, id). */
export interface ChannelAccountCursor {
  channel: string;
  id: string;
}

/** A page of accounts by channel, then id, and the cursor of the next page when there is one. */
export async function listChannelAccounts(
  db: Conn,
  scope: WorkspaceScope,
  { limit, after }: { limit: number; after?: ChannelAccountCursor },
): Promise<{ items: ChannelAccountRow[]; next?: ChannelAccountCursor }> {
  const q = applyScope(db<ChannelAccountDbRow>('channel_accounts').select('*'), scope);
  if (after) q.whereRaw('(channel, id) > (?, ?::uuid)', [after.channel, after.id]);
  const rows = await q.orderBy([{ column: 'channel' }, { column: 'id' }]).limit(limit + 1);
  const items = rows.slice(0, limit).map(decode);
  const last = items.at(-1);
  return rows.length > limit && last ? { items, next: { channel: last.channel, id: last.id } } : { items };
}

/** Changes the fields given and, when given, replaces the secrets (the caller merges old and new). */
export async function updateChannelAccount(
  db: Conn,
  scope: WorkspaceScope,
  id: string,
  patch: Partial<ChannelAccountFields>,
  credentials?: ChannelAccountCredentials,
): Promise<ChannelAccountRow | undefined> {
  const [row] = await applyScope(db('channel_accounts').where({ id }), scope)
    .update({
      ...patch,
      ...(credentials ? { credentials: encrypt(id, credentials) } : {}),
      updated_at: db.fn.now(),
    })
    .returning<ChannelAccountDbRow[]>('*');
  return row ? decode(row) : undefined;
}

export async function deleteChannelAccount(db: Conn, scope: WorkspaceScope, id: string): Promise<boolean> {
  return (await applyScope(db('channel_accounts').where({ id }), scope).delete()) > 0;
}

/** A test send was queued ('queued') or ran ('ok', 'failed' with the provider's error and code). */
export async function recordChannelAccountTest(
  db: Conn,
  id: string,
  verdict: { status: 'queued' | 'ok' | 'failed'; error?: string | null },
): Promise<void> {
  await db('channel_accounts')
    .where({ id })
    .update({ last_test_at: db.fn.now(), last_test_status: verdict.status, last_test_error: verdict.error ?? null });
}

/** The workspace's active account for a channel, secrets in plaintext, for a worker building an adapter. */
export async function findActiveChannelAccount(
  db: Conn,
  workspaceId: string,
  channel: AccountChannel,
): Promise<ChannelAccountRow | undefined> {
  const row = await db<ChannelAccountDbRow>('channel_accounts')
    .where({ workspace_id: workspaceId, channel, is_active: true })
    .first();
  return row ? decode(row) : undefined;
}

/** Any account by id, secrets in plaintext, for a worker (a test send names its account). */
export async function findChannelAccountById(db: Conn, id: string): Promise<ChannelAccountRow | undefined> {
  const row = await db<ChannelAccountDbRow>('channel_accounts').where({ id }).first();
  return row ? decode(row) : undefined;
}
