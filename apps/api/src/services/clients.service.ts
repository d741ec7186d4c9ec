// Clients: a workspace's customers. Members read them, with phone numbers masked; owners and admins (and the
// platform admin) see the numbers and make changes. An import takes CSV or a JSON array, checks every row, and
// upserts the valid ones in one transaction; a dry run does the same and rolls back.
import { parse as parseCsv } from 'csv-parse/sync';
import Joi from 'joi';
import { maskPhone } from '@nudge/domain';
import {
  type ClientFields,
  type ClientImportRow,
  type ClientRow,
  type ClientCounts,
  type Db,
  UniqueViolation,
  clientCounts,
  clientImportKey,
  deleteClient,
  findClient,
  findWorkspaceById,
  importClients,
  insertClient,
  listClients,
  updateClient,
} from '@nudge/db';
import { idScope, isManagerOf, ownScope, type Principal } from '../auth/principal';
import { Conflict, Forbidden, NotFound, ValidationFailed } from '../errors/domain-errors';
import { decodeCursor, encodeCursor, type Page } from '../http/pagination';
import { email, locale, name, phone, timezone } from '../http/schemas';
import { NoWorkspace } from './birthdays.service';

export const CLIENT_CHANNELS = ['email', 'sms', 'whatsapp'] as const;
const channel = () => Joi.string().valid(...CLIENT_CHANNELS);

/** Every field a client has, none required: the create schema adds what it needs, the update takes any. */
export const clientFields = {
  name: name(),
  email: email().allow(null),
  phone: phone().allow(null),
  whatsapp: phone().allow(null),
  preferred_channel: channel().allow(null),
  timezone: timezone(),
  locale: locale().allow(null),
  notes: Joi.string().max(10_000).allow(null, ''),
  external_ref: Joi.string().trim().min(1).max(200).allow(null),
  is_active: Joi.boolean(),
  opt_out: Joi.object({ email: Joi.boolean(), sms: Joi.boolean(), whatsapp: Joi.boolean() }),
};

/** The most rows one import takes. */
export const MAX_IMPORT_ROWS = 10_000;

const flag = () => Joi.boolean().truthy('1', 'yes').falsy('0', 'no').sensitive(false);

/** One imported row: the client's fields, a name required; CSV's opt_out_* columns become `opt_out`. */
const importRowSchema = Joi.object({
  ...clientFields,
  name: name().required(),
  is_active: flag(),
  opt_out: Joi.object({ email: flag(), sms: flag(), whatsapp: flag() }),
});

/** The columns a CSV import may have. */
export const CSV_COLUMNS = [
  'name',
  'email',
  'phone',
  'whatsapp',
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

/** A client's fields as the API takes them (numbers already E.164: the request schema normalised them). */
export interface ClientInput {
  name?: string;
  email?: string | null;
  phone?: string | null;
  whatsapp?: string | null;
  preferred_channel?: ClientFields['preferred_channel'];
  timezone?: string;
  locale?: string | null;
  notes?: string | null;
  external_ref?: string | null;
  is_active?: boolean;
  opt_out?: { email?: boolean; sms?: boolean; whatsapp?: boolean };
  workspace_id?: string;
}

export interface ClientListQuery {
  limit: number;
  cursor?: string;
  search?: string;
  is_active?: boolean;
}

export interface ImportFailure {
  row: number;
  errors: { field: string; msg: string }[];
}

export interface ImportResult {
  imported_count: number;
  updated_count: number;
  failed_count: number;
  failed_imports: ImportFailure[];
}

/** The columns a client's input sets: `opt_out` becomes the three opt_out_* columns. */
function toFields(input: Omit<ClientInput, 'workspace_id'>): Partial<ClientFields> {
  const { opt_out, ...rest } = input;
  const out: Partial<ClientFields> = { ...rest };
  if (opt_out?.email !== undefined) out.opt_out_email = opt_out.email;
  if (opt_out?.sms !== undefined) out.opt_out_sms = opt_out.sms;
  if (opt_out?.whatsapp !== undefined) out.opt_out_whatsapp = opt_out.whatsapp;
  return out;
}

function conflictOf(err: unknown): unknown {
  if (!(err instanceof UniqueViolation)) return err;
  if (err.constraint === 'clients_workspace_external_ref_unique')
    return new Conflict('A client with this external_ref exists in the workspace', 'CLIENT_EXTERNAL_REF_EXISTS');
  if (err.constraint === 'clients_workspace_email_unique')
    return new Conflict('A client without an external_ref has this email in the workspace', 'CLIENT_EMAIL_EXISTS');
  return err;
}

/** Thrown inside a dry run's transaction to roll it back with the result it would have had. */
class DryRunDone extends Error {
  constructor(readonly result: { inserted: number; updated: number }) {
    super('dry run');
  }
}

export class ClientsService {
  constructor(private readonly deps: { db: Db }) {}

  /** The row as the caller may see it: numbers in full to whoever manages its workspace, masked to the others. */
  private visible<T extends ClientRow>(p: Principal, c: T): T {
    if (isManagerOf(p, c.workspace_id)) return c;
    return { ...c, phone: c.phone && maskPhone(c.phone), whatsapp: c.whatsapp && maskPhone(c.whatsapp) };
  }

  /** The workspace a write goes to: the caller's own (owners and admins), or the one the platform admin names. */
  private async targetWorkspace(p: Principal, named: string | undefined, where: 'body' | 'query') {
    let workspaceId: string;
    if (p.user.is_superuser) {
      if (!named)
        throw ValidationFailed.field(
          where,
          'workspace_id',
          '"workspace_id" is required for the platform admin',
          'any.required',
        );
      workspaceId = named;
    } else {
      if (!p.user.workspace_id) throw new NoWorkspace();
      if (named && named !== p.user.workspace_id) throw new NotFound('No such workspace');
      if (!isManagerOf(p, p.user.workspace_id)) throw new Forbidden();
      workspaceId = p.user.workspace_id;
    }
    const ws = await findWorkspaceById(this.deps.db, workspaceId);
    if (!ws) throw new NotFound('No such workspace');
    return ws;
  }

  /** An existing client the caller may change: another workspace's is a 404, a member's attempt a 403. */
  private async writable(p: Principal, id: string): Promise<ClientRow> {
    const c = await findClient(this.deps.db, idScope(p), id);
    if (!c) throw new NotFound();
    if (!isManagerOf(p, c.workspace_id)) throw new Forbidden();
    return c;
  }

  async list(p: Principal, q: ClientListQuery): Promise<Page<ClientRow>> {
    const after = decodeCursor(q.cursor, ['name', 'id'] as const);
    const page = await listClients(this.deps.db, ownScope(p), {
      search: q.search,
      isActive: q.is_active,
      limit: q.limit,
      after,
    });
    return {
      items: page.items.map((c) => this.visible(p, c)),
      next_cursor: page.next ? encodeCursor(page.next) : null,
    };
  }

  async get(p: Principal, id: string): Promise<ClientRow & { counts: ClientCounts }> {
    const c = await findClient(this.deps.db, idScope(p), id);
    if (!c) throw new NotFound();
    return this.visible(p, { ...c, counts: await clientCounts(this.deps.db, id) });
  }

  async create(p: Principal, input: ClientInput): Promise<ClientRow> {
    const { workspace_id, ...rest } = input;
    const ws = await this.targetWorkspace(p, workspace_id, 'body');
    const fields = { timezone: ws.timezone, ...toFields(rest) } as ClientFields;
    try {
      return await insertClient(this.deps.db, ws.id, fields);
    } catch (err) {
      throw conflictOf(err);
    }
  }

  async update(p: Principal, id: string, input: ClientInput): Promise<ClientRow> {
    const c = await this.writable(p, id);
    try {
      const updated = await updateClient(this.deps.db, idScope(p), c.id, toFields(input));
      if (!updated) throw new NotFound();
      return updated;
    } catch (err) {
      throw conflictOf(err);
    }
  }

  /** Deletes a client: its assignments go with it, its notifications stay with client_id set null. */
  async remove(p: Principal, id: string): Promise<void> {
    const c = await this.writable(p, id);
    if (!(await deleteClient(this.deps.db, idScope(p), c.id))) throw new NotFound();
  }

  /**
   * Imports CSV text or a JSON array. Every row is checked; the valid ones are upserted in one transaction (rolled
   * back for a dry run) and the others answered with their row number and each failing field.
   */
  async import(p: Principal, body: unknown, opts: { dryRun: boolean; workspaceId?: string }): Promise<ImportResult> {
    const ws = await this.targetWorkspace(p, opts.workspaceId, 'query');
    const { rows, failures } = checkRows(typeof body === 'string' ? csvRows(body) : jsonRows(body as unknown[]));
    let result = { inserted: 0, updated: 0 };
    if (rows.length) {
      try {
        result = await this.deps.db.transaction(async (trx) => {
          const written = await importClients(trx, ws.id, rows, { timezone: ws.timezone });
          if (opts.dryRun) throw new DryRunDone(written);
          return written;
        });
      } catch (err) {
        if (err instanceof DryRunDone) result = err.result;
        else throw conflictOf(err);
      }
    }
    return {
      imported_count: result.inserted,
      updated_count: result.updated,
      failed_count: failures.length,
      failed_imports: failures,
    };
  }
}

/** A row to check: its number in the file and its fields as given. */
interface RawRow {
  row: number;
  input: unknown;
  /** CSV rows name opt_out's parts as columns: failures name them so too. */
  csv: boolean;
}

function tooManyRows(): ValidationFailed {
  return new ValidationFailed([
    { loc: ['body'], msg: `"body" has more than ${MAX_IMPORT_ROWS} rows`, type: 'array.max' },
  ]);
}

/** JSON: the first element is row 1. */
function jsonRows(items: unknown[]): RawRow[] {
  if (items.length > MAX_IMPORT_ROWS) throw tooManyRows();
  return items.map((input, i) => ({ row: i + 1, input, csv: false }));
}

/** CSV: the header is row 1, so the first record is row 2. An empty cell gives no value (an update keeps it). */
function csvRows(text: string): RawRow[] {
  let records: Record<string, string>[];
  try {
    records = parseCsv(text, {
      bom: true,
      columns: (header: string[]) => {
        const names = header.map((h) => h.trim().toLowerCase());
        const unknown = names.filter((n) => !(CSV_COLUMNS as readonly string[]).includes(n));
        if (unknown.length || !names.includes('name'))
          throw new ValidationFailed([
            ...unknown.map((n) => ({
              loc: ['body', n],
              msg: `"${n}" is not a client column (${CSV_COLUMNS.join(', ')})`,
              type: 'object.unknown',
            })),
            ...(names.includes('name')
              ? []
              : [{ loc: ['body', 'name'], msg: 'the header has no "name" column', type: 'any.required' }]),
          ]);
        return names;
      },
      skip_empty_lines: true,
      trim: true,
      to: MAX_IMPORT_ROWS + 1,
    });
  } catch (err) {
    if (err instanceof ValidationFailed) throw err;
    throw new ValidationFailed([
      { loc: ['body'], msg: `not readable as CSV: ${(err as Error).message}`, type: 'csv.invalid' },
    ]);
  }
  if (records.length > MAX_IMPORT_ROWS) throw tooManyRows();
  return records.map((rec, i) => {
    const input: Record<string, unknown> = {};
    const optOut: Record<string, string> = {};
    for (const [k, v] of Object.entries(rec)) {
      if (v === '') continue;
      if (k.startsWith('opt_out_')) optOut[k.slice('opt_out_'.length)] = v;
      else input[k] = v;
    }
    if (Object.keys(optOut).length) input.opt_out = optOut;
    return { row: i + 2, input, csv: true };
  });
}

const ROW_OPTIONS: Joi.ValidationOptions = { abortEarly: false, convert: true, errors: { wrap: { label: false } } };

/** Checks every row: its fields, a key to match it by on a later import, and that no earlier row has that key. */
function checkRows(raw: RawRow[]): { rows: ClientImportRow[]; failures: ImportFailure[] } {
  const rows: ClientImportRow[] = [];
  const failures: ImportFailure[] = [];
  const seen = new Map<string, number>();
  for (const { row, input, csv } of raw) {
    if (!input || typeof input !== 'object' || Array.isArray(input)) {
      failures.push({ row, errors: [{ field: '', msg: 'a row must be an object of client fields' }] });
      continue;
    }
    const { value, error } = importRowSchema.validate(input, ROW_OPTIONS) as {
      value: ClientInput;
      error?: Joi.ValidationError;
    };
    if (error) {
      const field = (path: (string | number)[]) => path.join(csv ? '_' : '.');
      failures.push({ row, errors: error.details.map((d) => ({ field: field(d.path), msg: d.message })) });
      continue;
    }
    const key = clientImportKey(value);
    if (!key) {
      failures.push({
        row,
        errors: [{ field: 'external_ref', msg: 'a row needs an external_ref or an email, to be matched again later' }],
      });
      continue;
    }
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      const field = value.external_ref ? 'external_ref' : 'email';
      failures.push({ row, errors: [{ field, msg: `"${field}" is the same as in row ${earlier}` }] });
      continue;
    }
    seen.set(key, row);
    rows.push(toFields(value) as ClientImportRow);
  }
  return { rows, failures };
}
