// An import's rows: read from CSV or a JSON array, then checked one by one. Joi is the rule for a row, and every row
// it refuses is answered with joi's own messages; but joi costs tens of microseconds a row, most of an import's time
// once the writes are batched, so a row made only of plain values is first checked field by field with the same rules
// joi applies (the same phone, timezone and email functions), and goes to joi only when that check has any doubt.
// The fast check never refuses a row: it accepts it with the value joi would answer, or leaves it to joi.
import { type EmailOptions, isEmailValid } from '@hapi/address';
import { parse as parseCsv } from 'csv-parse/sync';
import Joi from 'joi';
import { isTimezone } from '@nudge/config';
import { type ClientImportRow, clientImportKey } from '@nudge/db';
import { normalisePhone } from '@nudge/domain';
import { ValidationFailed } from '../errors/domain-errors';
import { name } from '../http/schemas';
import { CLIENT_CHANNELS, clientFields, type ClientInput, toFields } from './client-fields';

/** The most rows one import takes. */
export const MAX_IMPORT_ROWS = 10_000;

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

export interface ImportFailure {
  row: number;
  errors: { field: string; msg: string }[];
}

/**
 * A CSV file's columns, from its header: each column's name, and the cell it is read from (the last of that name, as
 * when a record was an object of its cells).
 */
export interface CsvColumns {
  names: readonly string[];
  cells: readonly number[];
}

/**
 * An import's rows as read: CSV records (each an array of trimmed cells, '' for an empty one, read by `columns`) or
 * JSON elements, and the number of the first one (in CSV the header is row 1).
 */
export interface ImportRows {
  items: unknown[];
  /** CSV's columns; absent for JSON. */
  columns?: CsvColumns;
  firstRow: number;
}

function tooManyRows(): ValidationFailed {
  return new ValidationFailed([
    { loc: ['body'], msg: `"body" has more than ${MAX_IMPORT_ROWS} rows`, type: 'array.max' },
  ]);
}

/** JSON: the first element is row 1. */
export function jsonRows(items: unknown[]): ImportRows {
  if (items.length > MAX_IMPORT_ROWS) throw tooManyRows();
  return { items, firstRow: 1 };
}

/** The columns of a header, or the failure naming each unknown column (and a missing name). */
export function csvColumns(header: readonly string[]): CsvColumns {
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
  const distinct = [...new Set(names)];
  return { names: distinct, cells: distinct.map((n) => names.lastIndexOf(n)) };
}

const CSV_OPTIONS = { bom: true, skip_empty_lines: true, trim: true } as const;

/**
 * CSV: the header is row 1, so the first record is row 2. An empty cell gives no value (an update keeps it). Records
 * are read as arrays (as objects, csv-parse's own cost was half as much again), after the header alone is read and
 * checked, so that a bad header is answered before anything later in the file.
 */
export function csvRows(text: string): ImportRows {
  const data = Buffer.from(text);
  try {
    const [header] = parseCsv(data, { ...CSV_OPTIONS, to: 1 });
    if (!header) return { items: [], columns: { names: [], cells: [] }, firstRow: 2 };
    const columns = csvColumns(header);
    // The header is a record here: one more than the rows allowed, then the header left out.
    const records = parseCsv(data, { ...CSV_OPTIONS, to: MAX_IMPORT_ROWS + 2 });
    if (records.length > MAX_IMPORT_ROWS + 1) throw tooManyRows();
    return { items: records.slice(1), columns, firstRow: 2 };
  } catch (err) {
    if (err instanceof ValidationFailed) throw err;
    throw new ValidationFailed([
      {
        loc: ['body'],
        msg: `not readable as CSV: ${csvMessage(err as Error & { code?: string })}`,
        type: 'csv.invalid',
      },
    ]);
  }
}

// A record of another length than the header is answered as when the header named csv-parse's columns.
const csvMessage = (err: Error & { code?: string }): string =>
  err.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH'
    ? err.message.replace(/^Invalid Record Length: expect (\d+),/, 'Invalid Record Length: columns length is $1,')
    : err.message;

/** A CSV record as joi reads it: empty cells left out, the opt_out_* columns gathered into `opt_out`. */
function csvInput(rec: readonly string[], { names, cells }: CsvColumns): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  const optOut: Record<string, string> = {};
  for (let c = 0; c < names.length; c++) {
    const k = names[c] as string;
    const v = rec[cells[c] as number] as string;
    if (v === '') continue;
    if (k.startsWith('opt_out_')) optOut[k.slice('opt_out_'.length)] = v;
    else input[k] = v;
  }
  if (Object.keys(optOut).length) input.opt_out = optOut;
  return input;
}

const flag = () => Joi.boolean().truthy('1', 'yes').falsy('0', 'no').sensitive(false);

/** One imported row: the client's fields, a name required; CSV's opt_out_* columns become `opt_out`. */
export const importRowSchema = Joi.object({
  ...clientFields,
  name: name().required(),
  is_active: flag(),
  opt_out: Joi.object({ email: flag(), sms: flag(), whatsapp: flag() }),
});

const ROW_OPTIONS: Joi.ValidationOptions = { abortEarly: false, convert: true, errors: { wrap: { label: false } } };

// What the fast check answers for a field it has a doubt about: the row goes to joi.
const DOUBT = Symbol('doubt');
type Checked<T> = T | typeof DOUBT;

// flag(): booleans, and true/false/1/0/yes/no in any case (joi's sensitive(false)); anything else, such as padded
// text, is joi's to judge.
const FLAG_WORDS = new Map([
  ['true', true],
  ['yes', true],
  ['1', true],
  ['false', false],
  ['no', false],
  ['0', false],
]);
function fastFlag(v: unknown): Checked<boolean> {
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string' || v.length > 5 || !/^[A-Za-z01]+$/.test(v)) return DOUBT;
  return FLAG_WORDS.get(v.toLowerCase()) ?? DOUBT;
}

/** A trimmed string of 1 to `max` characters (joi's string().trim().min(1).max(max)). */
function fastTrimmed(v: unknown, max: number): Checked<string> {
  if (typeof v !== 'string') return DOUBT;
  const t = v.trim();
  return t.length >= 1 && t.length <= max ? t : DOUBT;
}

// What joi's email({ tlds: false }) hands @hapi/address (its types leave out the `false` its code takes).
const EMAIL_OPTIONS = { tlds: false } as unknown as EmailOptions;
const CHANNELS: ReadonlySet<string> = new Set(CLIENT_CHANNELS);

// Intl.getCanonicalLocales for the few tags a file uses, remembered (bounded).
const LOCALE_MEMO_LIMIT = 1000;
const canonicalLocales = new Map<string, string | undefined>();
function canonicalLocale(tag: string): string | undefined {
  if (canonicalLocales.has(tag)) return canonicalLocales.get(tag);
  let canonical: string | undefined;
  try {
    canonical = Intl.getCanonicalLocales(tag)[0];
  } catch {
    canonical = undefined;
  }
  if (canonicalLocales.size >= LOCALE_MEMO_LIMIT) canonicalLocales.clear();
  canonicalLocales.set(tag, canonical);
  return canonical;
}

/** One field by the rule clientFields has for it, or DOUBT. `null` only where the rule allows it. */
function fastField(key: string, v: unknown): Checked<unknown> {
  switch (key) {
    case 'name':
      return fastTrimmed(v, 200);
    case 'email': {
      if (v === null) return null;
      const t = fastTrimmed(v, 254);
      return t !== DOUBT && isEmailValid(t, EMAIL_OPTIONS) ? t : DOUBT;
    }
    case 'phone':
    case 'whatsapp': {
      if (v === null) return null;
      if (typeof v !== 'string' || v.length < 1 || v.length > 40) return DOUBT;
      const r = normalisePhone(v);
      return 'e164' in r ? r.e164 : DOUBT;
    }
    case 'preferred_channel':
      return v === null || (typeof v === 'string' && CHANNELS.has(v)) ? v : DOUBT;
    case 'timezone':
      return typeof v === 'string' && v.length > 0 && isTimezone(v) ? v : DOUBT;
    case 'locale': {
      if (v === null) return null;
      if (typeof v !== 'string' || v.length < 1 || v.length > 35) return DOUBT;
      return canonicalLocale(v) ?? DOUBT;
    }
    case 'notes':
      return v === null || (typeof v === 'string' && v.length <= 10_000) ? v : DOUBT;
    case 'external_ref':
      return v === null ? null : fastTrimmed(v, 200);
    case 'is_active':
      return fastFlag(v);
    default:
      return DOUBT;
  }
}

const OPT_OUT_COLUMNS = { email: 'opt_out_email', sms: 'opt_out_sms', whatsapp: 'opt_out_whatsapp' } as const;
const CSV_OPT_OUT: Readonly<Record<string, keyof typeof OPT_OUT_COLUMNS>> = {
  opt_out_email: 'email',
  opt_out_sms: 'sms',
  opt_out_whatsapp: 'whatsapp',
};

type Fields = Record<string, unknown>;

/** A CSV record's columns to write, or undefined when joi must judge it. */
function fastCsvRow(rec: readonly string[], { names, cells }: CsvColumns): Fields | undefined {
  const out: Fields = {};
  for (let c = 0; c < names.length; c++) {
    const key = names[c] as string;
    const v = rec[cells[c] as number] as string;
    if (v === '') continue;
    const part = CSV_OPT_OUT[key];
    const value = part ? fastFlag(v) : fastField(key, v);
    if (value === DOUBT) return undefined;
    out[part ? OPT_OUT_COLUMNS[part] : key] = value;
  }
  return 'name' in out ? out : undefined;
}

/** Whether a JSON value is an object of keys (not an array, not null). */
const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/** A JSON element's columns to write, or undefined when joi must judge it. */
function fastJsonRow(item: unknown): Fields | undefined {
  if (!isPlainObject(item)) return undefined;
  const out: Fields = {};
  for (const [key, v] of Object.entries(item)) {
    if (key === 'opt_out') {
      if (!isPlainObject(v)) return undefined;
      for (const [part, f] of Object.entries(v)) {
        const value = Object.hasOwn(OPT_OUT_COLUMNS, part) ? fastFlag(f) : DOUBT;
        if (value === DOUBT) return undefined;
        out[OPT_OUT_COLUMNS[part as keyof typeof OPT_OUT_COLUMNS]] = value;
      }
      continue;
    }
    const value = fastField(key, v);
    if (value === DOUBT) return undefined;
    out[key] = value;
  }
  return 'name' in out ? out : undefined;
}

/**
 * A row's columns to write when the fast check accepts it (exactly what joi's value gives), else undefined. Exported
 * for the test that holds it to joi's answers.
 */
export function fastImportRow(item: unknown, columns: CsvColumns | undefined): ClientImportRow | undefined {
  return (columns ? fastCsvRow(item as string[], columns) : fastJsonRow(item)) as ClientImportRow | undefined;
}

/** A row's columns as joi answers them, or the failure naming each field joi refused. */
function joiRow(item: unknown, row: number, columns: CsvColumns | undefined): ClientImportRow | ImportFailure {
  const input = columns ? csvInput(item as string[], columns) : item;
  if (!input || typeof input !== 'object' || Array.isArray(input))
    return { row, errors: [{ field: '', msg: 'a row must be an object of client fields' }] };
  const { value, error } = importRowSchema.validate(input, ROW_OPTIONS) as {
    value: ClientInput;
    error?: Joi.ValidationError;
  };
  if (!error) return toFields(value) as ClientImportRow;
  const field = (path: (string | number)[]) => path.join(columns ? '_' : '.');
  return { row, errors: error.details.map((d) => ({ field: field(d.path), msg: d.message })) };
}

/**
 * Checks an import's rows a slice at a time, in file order: each row's fields, a key to match it by on a later
 * import, and that no earlier row has that key. Refused rows gather in `failures`.
 */
export class ImportRowChecker {
  readonly failures: ImportFailure[] = [];
  private readonly seen = new Map<string, number>();

  constructor(private readonly rows: ImportRows) {}

  get length(): number {
    return this.rows.items.length;
  }

  /**
   * The key each row will likely have (clientImportKey of its raw external_ref or email), to look up before the rows
   * are checked.
   */
  expectedKeys(): string[] {
    const { items, columns } = this.rows;
    const cell = (name: string) => (columns ? columns.cells[columns.names.indexOf(name)] : undefined);
    const refCell = cell('external_ref');
    const emailCell = cell('email');
    const keys: string[] = [];
    for (const item of items) {
      if (!item || typeof item !== 'object') continue;
      let ref: unknown;
      let email: unknown;
      if (columns) {
        ref = refCell === undefined ? undefined : (item as string[])[refCell];
        email = emailCell === undefined ? undefined : (item as string[])[emailCell];
      } else ({ external_ref: ref, email } = item as { external_ref?: unknown; email?: unknown });
      const r = typeof ref === 'string' ? ref.trim() : '';
      if (r) keys.push(`r:${r}`);
      else if (typeof email === 'string' && email.trim()) keys.push(`e:${email.trim().toLowerCase()}`);
    }
    return keys;
  }

  /** The valid rows among items [from, to), as the columns to write. */
  check(from: number, to: number): ClientImportRow[] {
    const { items, columns, firstRow } = this.rows;
    const valid: ClientImportRow[] = [];
    for (let i = from; i < to && i < items.length; i++) {
      const row = i + firstRow;
      const checked = fastImportRow(items[i], columns) ?? joiRow(items[i], row, columns);
      if ('errors' in checked) {
        this.failures.push(checked);
        continue;
      }
      const key = clientImportKey(checked);
      if (!key) {
        this.failures.push({
          row,
          errors: [
            { field: 'external_ref', msg: 'a row needs an external_ref or an email, to be matched again later' },
          ],
        });
        continue;
      }
      const earlier = this.seen.get(key);
      if (earlier !== undefined) {
        const field = checked.external_ref ? 'external_ref' : 'email';
        this.failures.push({ row, errors: [{ field, msg: `"${field}" is the same as in row ${earlier}` }] });
        continue;
      }
      this.seen.set(key, row);
      valid.push(checked);
    }
    return valid;
  }
}
