// Clients: a workspace's customers, whom reminders go to. Phone and WhatsApp numbers are stored encrypted, bound to
// the row id, with a keyed hash beside each (findClientsByPhoneHash); this module alone encrypts and decrypts them,
// so callers see E.164 plaintext in and out. An import upserts by external_ref, else by email, in multi-row
// statements (COPY for the new rows): rows get their ids before anything is encrypted, because each ciphertext is
// bound to its row's id.
import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Knex } from 'knex';
import { DecryptionError, getFieldCipher, searchHash } from '@nudge/crypto';
import type { Conn } from '../connection';
import { CopyLines, copyRows, type CopyValue } from '../copy-rows';
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
  let hashed: { value: string; hash: string } | undefined;
  for (const { field, hash, col } of CIPHER_COLUMNS) {
    if (!(field in fields)) continue;
    const value = fields[field];
    out[field] = value ? cipher.encrypt(value, fieldContext(col, id)) : null;
    // A client's SMS and WhatsApp numbers are often one number: hashed once.
    if (value && hashed?.value !== value) hashed = { value, hash: searchHash(value) };
    out[hash] = value ? (hashed as { hash: string }).hash : null;
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
  payments: number;
}

/**
 * How many reminders a client is assigned to (in all, and active), and how many notifications and payment requests
 * went to them.
 */
export async function clientCounts(db: Conn, clientId: string): Promise<ClientCounts> {
  const { rows } = await db.raw<{ rows: ClientCounts[] }>(
    `SELECT
       (SELECT count(*) FROM reminder_clients WHERE client_id = :id)::int AS reminders,
       (SELECT count(*) FROM reminder_clients rc JOIN reminders r ON r.id = rc.reminder_id
         WHERE rc.client_id = :id AND r.status = 'active')::int AS active_reminders,
       (SELECT count(*) FROM notifications WHERE client_id = :id)::int AS notifications,
       (SELECT count(*) FROM payments WHERE client_id = :id)::int AS payments`,
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

// Matched rows a statement. Smaller statements let the next rows' checks and encryption overlap a statement's
// execution sooner, and leave less unoverlapped at the end; larger ones cost fewer round trips.
const STATEMENT_ROWS = 1000;
// New rows a COPY. New rows stream into an open COPY as each slice is written, so PostgreSQL inserts them while the
// next ones are checked, with no round trip between statements (one COPY of 1,000 rows after another waited for the
// event loop's turns at each end, and fell behind the checking). The foreign-key checks of a COPY's rows run when it
// ends, so it ends every few thousand rows rather than leave them all for the end of the import.
const COPY_ROWS = 2500;
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
type WrittenColumn = (typeof WRITTEN_COLUMNS)[number];
type WrittenRow = Pick<ClientDbRow, WrittenColumn>;

const COLUMN_TYPES: Record<WrittenColumn, string> = {
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

// Matched rows (whose ids we hold, locked): one statement a batch, one array parameter a column (unnest), upserting by
// id, so each is updated in place; the statement's text does not grow with the rows. (New rows go in by COPY. A COPY
// of the matched rows into a temporary table and an UPDATE from it cost PostgreSQL as much CPU, in three round trips
// a batch instead of one, and a temporary table's catalog rows at each import.)
const UPSERT_SQL = `INSERT INTO clients (${WRITTEN_COLUMNS.map((c) => `"${c}"`).join(', ')})
  SELECT * FROM unnest(${WRITTEN_COLUMNS.map((c) => `?::${COLUMN_TYPES[c]}[]`).join(', ')})
  ON CONFLICT (id) DO UPDATE SET ${WRITTEN_COLUMNS.filter((c) => c !== 'id' && c !== 'workspace_id')
    .map((c) => `"${c}" = EXCLUDED."${c}"`)
    .join(', ')}, updated_at = now()`;

const importKey = (r: { external_ref?: string | null; email?: string | null }): string | undefined =>
  r.external_ref ? `r:${r.external_ref}` : r.email ? `e:${r.email.toLowerCase()}` : undefined;

/** Which import key each row has: external_ref when it has one, else its email (case-insensitively). */
export function clientImportKey(r: { external_ref?: string | null; email?: string | null }): string | undefined {
  return importKey(r);
}

/**
 * An import in progress, within the caller's transaction: rows are handed over a slice at a time (`write`), each slice
 * encrypted and sent as upserts without waiting for PostgreSQL, so that the caller checks the next slice while the
 * statements run; `finish` waits for all of them. A row with an external_ref updates the client with that
 * external_ref, a row without one the client without one that has its email (the two partial unique indexes), and any
 * other row is inserted with a new id. Rows must have distinct keys (clientImportKey).
 */
export interface ClientImporter {
  /**
   * Encrypts these rows for their ids and sends their upserts (rows given while the expected keys are still being
   * looked up wait for the lookup, and go with the next write or finish); resolves once they are sent, not done.
   */
  write(rows: ClientImportRow[]): Promise<void>;
  /** Sends what is left and waits for every statement; throws the first error any of them had. */
  finish(): Promise<ClientImportResult>;
  /**
   * Gives the import up (the caller's transaction is failing): an open COPY is cancelled, which a rollback would
   * otherwise wait behind for ever.
   */
  abort(): void;
}

/**
 * Starts an import into one workspace. Imports into one workspace take turns (an advisory lock), so two of them never
 * both insert the same new key. `expectedKeys` (clientImportKey of the rows to come, as far as the caller can tell
 * before checking them) are looked up at once, while the caller checks the first rows; a row whose key was not among
 * them is looked up when it is written.
 */
export function startClientImport(
  trx: Knex.Transaction,
  workspaceId: string,
  expectedKeys: Iterable<string>,
  defaults: { timezone: string },
): ClientImporter {
  // Every key looked up so far: the row it matched, or null for none (the row will be inserted).
  const known = new Map<string, WrittenRow | null>();
  const lookUp = async (keys: string[]): Promise<void> => {
    const refs: string[] = [];
    const emails: string[] = [];
    for (const k of keys) {
      known.set(k, null);
      if (k.startsWith('r:')) refs.push(k.slice(2));
      else emails.push(k.slice(2));
    }
    if (!keys.length) return;
    const existing = (await trx('clients')
      .select(WRITTEN_COLUMNS)
      .where({ workspace_id: workspaceId })
      .whereRaw('(external_ref = ANY(?::text[]) OR (external_ref IS NULL AND lower(email) = ANY(?::text[])))', [
        refs,
        emails,
      ])
      .forUpdate()) as WrittenRow[];
    for (const e of existing) {
      const key = importKey(e);
      if (key && known.has(key)) known.set(key, e);
    }
  };
  // The transaction's statements, one after another: the connection runs one at a time, and the driver's own queue
  // for a busy connection is deprecated. The first error is kept; later statements fail anyway (the transaction is
  // aborted) and their errors say less.
  let tail: Promise<unknown> = Promise.resolve();
  let failure: { err: unknown } | undefined;
  // The COPY new rows are streaming into, until it is ended.
  let copying: { lines: Readable; rows: number } | undefined;
  const endCopy = () => {
    copying?.lines.push(null);
    copying = undefined;
  };
  const inTurn = <T>(statement: () => Promise<T>): Promise<T> => {
    // A statement queued behind an open COPY would wait for ever.
    endCopy();
    const done = tail.then(() => {
      if (failure) throw failure.err;
      return statement();
    });
    tail = done.catch((err: unknown) => {
      failure ??= { err };
    });
    return done;
  };
  const ready = inTurn(async () => {
    await trx.raw('SELECT pg_advisory_xact_lock(hashtext(?))', [`clients-import:${workspaceId}`]);
    await lookUp([...new Set(expectedKeys)]);
  });
  // Its failure is reported by write and finish: a rejection nobody awaits yet must not go unhandled.
  ready.catch(() => undefined);

  const cipher = getFieldCipher();
  // Rows no client has the key of, to insert by COPY, as lines of its text format; rows updating a client, whose other
  // columns they may keep, a column at a time.
  const fresh = new CopyLines();
  let matched = WRITTEN_COLUMNS.map(() => [] as unknown[]);
  let matchedCount = 0;
  let inserted = 0;
  let total = 0;

  const sendFresh = () => {
    if (!fresh.count) return;
    if (!copying) {
      const lines = new Readable({ read: () => undefined });
      inTurn(() => copyRows(trx, 'clients', WRITTEN_COLUMNS, lines)).catch(() => undefined);
      copying = { lines, rows: 0 };
    }
    copying.rows += fresh.count;
    copying.lines.push(fresh.take());
    if (copying.rows >= COPY_ROWS) endCopy();
  };
  const sendMatched = () => {
    if (!matchedCount) return;
    const params = matched as unknown as Knex.RawBinding[];
    matched = WRITTEN_COLUMNS.map(() => []);
    matchedCount = 0;
    inTurn(async () => {
      await trx.raw(UPSERT_SQL, params);
    }).catch(() => undefined);
  };
  const send = () => {
    sendFresh();
    sendMatched();
  };

  /** Appends one row: the matched row's values (or the defaults), then what the row gives, numbers encrypted. */
  const add = (r: ClientImportRow, found: WrittenRow | null | undefined) => {
    const id = found ? found.id : randomUUID();
    const given = r as Partial<Record<WrittenColumn, unknown>>;
    let hashed: { value: string; hash: string } | undefined;
    const values: CopyValue[] = [];
    for (let c = 0; c < WRITTEN_COLUMNS.length; c++) {
      const col = WRITTEN_COLUMNS[c] as WrittenColumn;
      let value: unknown;
      if (col === 'id') value = id;
      else if (col === 'workspace_id') value = workspaceId;
      else if (col === 'phone' || col === 'whatsapp') {
        if (col in given) {
          const plain = given[col] as string | null;
          value = plain ? cipher.encrypt(plain, fieldContext(CIPHER_BY_FIELD[col], id)) : null;
        } else value = found ? found[col] : null;
      } else if (col === 'phone_hash' || col === 'whatsapp_hash') {
        const field = col === 'phone_hash' ? 'phone' : 'whatsapp';
        if (field in given) {
          const plain = given[field] as string | null;
          // A client's SMS and WhatsApp numbers are often one number: hashed once.
          if (plain && hashed?.value !== plain) hashed = { value: plain, hash: searchHash(plain) };
          value = plain ? (hashed as { hash: string }).hash : null;
        } else value = found ? found[col] : null;
      } else if (col in given) value = given[col];
      else value = found ? found[col] : col === 'timezone' ? defaults.timezone : NEW_ROW_DEFAULTS[col];
      values.push((value ?? null) as CopyValue);
    }
    if (found) {
      for (let c = 0; c < values.length; c++) (matched[c] as unknown[]).push(values[c]);
      matchedCount += 1;
      if (matchedCount >= STATEMENT_ROWS) sendMatched();
    } else fresh.push(values);
  };

  /** Encrypts and queues rows, once the keys they may match are known. */
  const place = async (rows: ClientImportRow[]) => {
    const unknownKeys: string[] = [];
    for (const r of rows) {
      const key = importKey(r);
      if (key && !known.has(key)) unknownKeys.push(key);
    }
    if (unknownKeys.length) await inTurn(() => lookUp(unknownKeys));
    for (const r of rows) {
      const key = importKey(r);
      const found = key ? known.get(key) : null;
      if (!found) inserted += 1;
      add(r, found);
    }
    total += rows.length;
    sendFresh();
  };
  // Rows handed over while the expected keys are still being looked up wait here, so that the caller goes on checking
  // rows meanwhile instead of waiting for the lookup (which locks every matched row: tens of ms for 10,000).
  let lookedUp = false;
  ready.then(() => (lookedUp = true)).catch(() => undefined);
  const waiting: ClientImportRow[][] = [];
  const placeWaiting = async () => {
    for (let rows = waiting.shift(); rows; rows = waiting.shift()) await place(rows);
  };

  return {
    async write(rows) {
      if (failure) throw failure.err;
      if (!lookedUp) {
        waiting.push(rows);
        return;
      }
      await placeWaiting();
      await place(rows);
    },
    async finish() {
      await ready;
      await placeWaiting();
      send();
      endCopy();
      await tail;
      if (failure) throw failure.err;
      return { inserted, updated: total - inserted };
    },
    abort() {
      failure ??= { err: new Error('import abandoned') };
      copying?.lines.destroy(new Error('import abandoned'));
      copying = undefined;
    },
  };
}

const CIPHER_BY_FIELD = { phone: CLIENT_PHONE_COLUMN, whatsapp: CLIENT_WHATSAPP_COLUMN } as const;

/** A new row's value for a column the import does not give (the timezone is the workspace's). */
const NEW_ROW_DEFAULTS: Partial<Record<WrittenColumn, unknown>> = {
  is_active: true,
  opt_out_email: false,
  opt_out_sms: false,
  opt_out_whatsapp: false,
};

/** Upserts rows into one workspace within the caller's transaction, all at once (startClientImport, one slice). */
export async function importClients(
  trx: Knex.Transaction,
  workspaceId: string,
  rows: ClientImportRow[],
  defaults: { timezone: string },
): Promise<ClientImportResult> {
  const importer = startClientImport(
    trx,
    workspaceId,
    rows.flatMap((r) => importKey(r) ?? []),
    defaults,
  );
  try {
    await importer.write(rows);
    return await importer.finish();
  } catch (err) {
    importer.abort();
    throw err;
  }
}
