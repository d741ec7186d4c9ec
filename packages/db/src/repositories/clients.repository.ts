// Clients: a workspace's customers, whom reminders go to. Phone and WhatsApp numbers are stored encrypted, bound to
// the row id, with a keyed hash beside each (findClientsByPhoneHash); this module alone encrypts and decrypts them,
// so callers see E.164 plaintext in and out. An import upserts by external_ref, else by email, in multi-row
// statements: rows get their ids before anything is encrypted, because each ciphertext is bound to its row's id.
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { DecryptionError, getFieldCipher, searchHash } from '@nudge/crypto';
import type { Conn } from '../connection';
import { CLIENT_PHONE_COLUMN, CLIENT_WHATSAPP_COLUMN, fieldContext } from '../encrypted-columns';
import { applyScope, type WorkspaceScope } from '../scope';

export type ClientChannel = 'email' | 'sms' | 'whatsapp';

/** A client as stored: numbers are ciphertexts. */
interface ClientDbRow {
  id: string;
  workspace_id: string;
  name: string;
  email: string | null;
  phone: string | null;
  phone_hash: string | null;
  whatsapp: string | null;
  whatsapp_hash: string | null;
  preferred_channel: ClientChannel | null;
  timezone: string;
  locale: string | null;
  notes: string | null;
  external_ref: string | null;
  is_active: boolean;
  opt_out_email: boolean;
  opt_out_sms: boolean;
  opt_out_whatsapp: boolean;
  created_at: Date;
  updated_at: Date;
}

/** A client with its numbers in plaintext (E.164), null when none is stored or the stored one no longer decrypts. */
export type ClientRow = Omit<ClientDbRow, 'phone_hash' | 'whatsapp_hash'>;

/** The fields a caller sets; numbers in E.164, already normalised. */
export type ClientFields = Omit<ClientRow, 'id' | 'workspace_id' | 'created_at' | 'updated_at'>;

const CIPHER_COLUMNS = [
  { field: 'phone', hash: 'phone_hash', col: CLIENT_PHONE_COLUMN },
  { field: 'whatsapp', hash: 'whatsapp_hash', col: CLIENT_WHATSAPP_COLUMN },
] as const;

/** The stored form of the given fields of row `id`: each number encrypted for that row, with its keyed hash. */
function encode(id: string, fields: Partial<ClientFields>): Partial<ClientDbRow> {
  const out: Partial<ClientDbRow> = { ...fields };
  const cipher = getFieldCipher();
  for (const { field, hash, col } of CIPHER_COLUMNS) {
    if (!(field in fields)) continue;
    const value = fields[field];
    out[field] = value ? cipher.encrypt(value, fieldContext(col, id)) : null;
    out[hash] = value ? searchHash(value) : null;
  }
  return out;
}

/**
 * A stored number of client `clientId` in plaintext, or null when it no longer decrypts: a number under a retired key
 * or copied from another row is shown as absent rather than failing the client's reads; the ciphertext stays, so a
 * restored key reads it again.
 */
export function readClientNumber(stored: string, field: 'phone' | 'whatsapp', clientId: string): string | null {
  const { col } = CIPHER_COLUMNS.find((c) => c.field === field)!;
  try {
    return getFieldCipher().decrypt(stored, fieldContext(col, clientId));
  } catch (err) {
    if (!(err instanceof DecryptionError)) throw err;
    return null;
  }
}

function decode(row: ClientDbRow): ClientRow {
  const { phone_hash: _p, whatsapp_hash: _w, ...rest } = row;
  const out: ClientRow = { ...rest };
  for (const { field } of CIPHER_COLUMNS) {
    const stored = row[field];
    if (stored) out[field] = readClientNumber(stored, field, row.id);
  }
  return out;
}

export async function insertClient(db: Conn, workspaceId: string, fields: ClientFields): Promise<ClientRow> {
  const id = randomUUID();
  const [row] = await db('clients')
    .insert({ id, workspace_id: workspaceId, ...encode(id, fields) })
    .returning<ClientDbRow[]>('*');
  return decode(row as ClientDbRow);
}

export async function findClient(db: Conn, scope: WorkspaceScope, id: string): Promise<ClientRow | undefined> {
  const row = await applyScope(db<ClientDbRow>('clients').where({ id }), scope).first();
  return row ? decode(row) : undefined;
}

export async function updateClient(
  db: Conn,
  scope: WorkspaceScope,
  id: string,
  patch: Partial<ClientFields>,
): Promise<ClientRow | undefined> {
  const [row] = await applyScope(db('clients').where({ id }), scope)
    .update({ ...encode(id, patch), updated_at: db.fn.now() })
    .returning<ClientDbRow[]>('*');
  return row ? decode(row) : undefined;
}

export async function deleteClient(db: Conn, scope: WorkspaceScope, id: string): Promise<boolean> {
  return (await applyScope(db('clients').where({ id }), scope).delete()) > 0;
}

/** Where a listing page starts: after this (lower(name), id). */
export interface ClientCursor {
  name: string;
  id: string;
}

export interface ClientListOptions {
  /** Case-insensitive substring of the name or the email. */
  search?: string;
  isActive?: boolean;
  limit: number;
  after?: ClientCursor;
}

const likePattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * A page of clients by case-insensitive name, then id (the order of clients_workspace_name_idx), and the cursor of
 * the next page when there is one.
 */
export async function listClients(
  db: Conn,
  scope: WorkspaceScope,
  { search, isActive, limit, after }: ClientListOptions,
): Promise<{ items: ClientRow[]; next?: ClientCursor }> {
  const q = applyScope(db<ClientDbRow>('clients').select('*'), scope);
  if (search) {
    const pattern = likePattern(search);
    q.whereRaw("(name ILIKE ? ESCAPE '\\' OR email ILIKE ? ESCAPE '\\')", [pattern, pattern]);
  }
  if (isActive !== undefined) q.where({ is_active: isActive });
  if (after) q.whereRaw('(lower(name), id) > (?, ?::uuid)', [after.name, after.id]);
  const rows = await q.orderByRaw('lower(name), id').limit(limit + 1);
  const items = rows.slice(0, limit).map(decode);
  const last = items.at(-1);
  return rows.length > limit && last ? { items, next: { name: last.name.toLowerCase(), id: last.id } } : { items };
}

export interface ClientCounts {
  reminders: number;
  active_reminders: number;
  notifications: number;
}

/** How many reminders a client is assigned to (in all, and active), and how many notifications went to them. */
export async function clientCounts(db: Conn, clientId: string): Promise<ClientCounts> {
  const { rows } = await db.raw<{ rows: ClientCounts[] }>(
    `SELECT
       (SELECT count(*) FROM reminder_clients WHERE client_id = :id)::int AS reminders,
       (SELECT count(*) FROM reminder_clients rc JOIN reminders r ON r.id = rc.reminder_id
         WHERE rc.client_id = :id AND r.status = 'active')::int AS active_reminders,
       (SELECT count(*) FROM notifications WHERE client_id = :id)::int AS notifications`,
    { id: clientId },
  );
  return rows[0] as ClientCounts;
}

/**
 * The clients whose SMS (phone) or WhatsApp number is this E.164 number, found by its keyed hash: what an inbound
 * STOP needs, without decrypting any row. Scope ALL_WORKSPACES when the workspace is not known yet.
 */
export async function findClientsByPhoneHash(
  db: Conn,
  scope: WorkspaceScope,
  channel: 'sms' | 'whatsapp',
  e164: string,
): Promise<ClientRow[]> {
  const column = channel === 'sms' ? 'phone_hash' : 'whatsapp_hash';
  const rows = await applyScope(db<ClientDbRow>('clients').where(column, searchHash(e164)), scope).orderBy('id');
  return rows.map(decode);
}

/** One row of an import: the fields it gives (a key absent keeps the stored value on an update). */
export type ClientImportRow = Partial<ClientFields> & Pick<ClientFields, 'name'>;

export interface ClientImportResult {
  inserted: number;
  updated: number;
}

// Rows a statement: the parameters are one array a column, so this bounds only a statement's memory.
const IMPORT_CHUNK = 5000;
const WRITTEN_COLUMNS = [
  'id',
  'workspace_id',
  'name',
  'email',
  'phone',
  'phone_hash',
  'whatsapp',
  'whatsapp_hash',
  'preferred_channel',
  'timezone',
  'locale',
  'notes',
  'external_ref',
  'is_active',
  'opt_out_email',
  'opt_out_sms',
  'opt_out_whatsapp',
] as const;

const COLUMN_TYPES: Record<(typeof WRITTEN_COLUMNS)[number], string> = {
  id: 'uuid',
  workspace_id: 'uuid',
  name: 'text',
  email: 'text',
  phone: 'text',
  phone_hash: 'text',
  whatsapp: 'text',
  whatsapp_hash: 'text',
  preferred_channel: 'text',
  timezone: 'text',
  locale: 'text',
  notes: 'text',
  external_ref: 'text',
  is_active: 'boolean',
  opt_out_email: 'boolean',
  opt_out_sms: 'boolean',
  opt_out_whatsapp: 'boolean',
};

const importKey = (r: { external_ref?: string | null; email?: string | null }): string | undefined =>
  r.external_ref ? `r:${r.external_ref}` : r.email ? `e:${r.email.toLowerCase()}` : undefined;

/** Which import key each row has: external_ref when it has one, else its email (case-insensitively). */
export function clientImportKey(r: { external_ref?: string | null; email?: string | null }): string | undefined {
  return importKey(r);
}

/**
 * Upserts rows into one workspace, within the caller's transaction: a row with an external_ref updates the client
 * with that external_ref, a row without one the client without one that has its email (the two partial unique
 * indexes), and any other row is inserted with a new id. Rows must have distinct keys (clientImportKey). Imports
 * into one workspace take turns (an advisory lock), so two of them never both insert the same new key.
 */
export async function importClients(
  trx: Knex.Transaction,
  workspaceId: string,
  rows: ClientImportRow[],
  defaults: { timezone: string },
): Promise<ClientImportResult> {
  await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`clients-import:${workspaceId}`]);
  const refs = rows.flatMap((r) => (r.external_ref ? [r.external_ref] : []));
  const emails = rows.flatMap((r) => (!r.external_ref && r.email ? [r.email.toLowerCase()] : []));
  const existing = (await trx('clients')
    .select(WRITTEN_COLUMNS)
    .where({ workspace_id: workspaceId })
    .whereRaw('(external_ref = ANY(?::text[]) OR (external_ref IS NULL AND lower(email) = ANY(?::text[])))', [
      refs,
      emails,
    ])
    .forUpdate()) as Omit<ClientDbRow, 'created_at' | 'updated_at'>[];
  const byKey = new Map(existing.map((e) => [importKey(e), e]));

  let inserted = 0;
  const records = rows.map((r) => {
    const found = byKey.get(importKey(r));
    if (found) return { ...found, ...encode(found.id, r) };
    inserted += 1;
    const id = randomUUID();
    return {
      id,
      workspace_id: workspaceId,
      email: null,
      phone: null,
      phone_hash: null,
      whatsapp: null,
      whatsapp_hash: null,
      preferred_channel: null,
      timezone: defaults.timezone,
      locale: null,
      notes: null,
      external_ref: null,
      is_active: true,
      opt_out_email: false,
      opt_out_sms: false,
      opt_out_whatsapp: false,
      ...encode(id, r),
    };
  });
  const columns = WRITTEN_COLUMNS.map((c) => `"${c}"`).join(', ');
  const arrays = WRITTEN_COLUMNS.map((c) => `?::${COLUMN_TYPES[c]}[]`).join(', ');
  const updates = WRITTEN_COLUMNS.filter((c) => c !== 'id' && c !== 'workspace_id')
    .map((c) => `"${c}" = EXCLUDED."${c}"`)
    .join(', ');
  for (let i = 0; i < records.length; i += IMPORT_CHUNK) {
    const chunk = records.slice(i, i + IMPORT_CHUNK) as unknown as Record<string, unknown>[];
    // One statement a chunk, one array parameter a column (unnest), upserting by id: a new row is inserted, a matched
    // one (whose id we hold) updated in place. The statement's size does not grow with the rows.
    await trx.raw(
      `INSERT INTO clients (${columns}) SELECT * FROM unnest(${arrays})
       ON CONFLICT (id) DO UPDATE SET ${updates}, updated_at = now()`,
      WRITTEN_COLUMNS.map((c) => chunk.map((r) => r[c] ?? null)) as unknown as Knex.RawBinding[],
    );
  }
  return { inserted, updated: rows.length - inserted };
}
