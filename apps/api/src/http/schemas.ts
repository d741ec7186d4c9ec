// Field schemas shared by every route, so a rule (a password's byte limit, a timezone's case) is written once.
import Joi from 'joi';
import { isTimezone } from '@nudge/config';
import { PASSWORD_MAX_BYTES } from '@nudge/crypto';
import { decodeCursor } from '@nudge/db';
import { normalisePhone, PHONE_PROBLEM_MESSAGES } from '@nudge/domain';

export const uuid = () =>
  Joi.string()
    .guid({ version: ['uuidv4', 'uuidv5', 'uuidv7'], separator: '-' })
    .lowercase();
export const idParams = Joi.object({ id: uuid().required() });

export const email = () => Joi.string().trim().max(254).email({ tlds: false });

export const password = () =>
  Joi.string()
    .min(8)
    .custom((value: string, helpers) =>
      Buffer.byteLength(value, 'utf8') > PASSWORD_MAX_BYTES ? helpers.error('string.maxBytes') : value,
    )
    .messages({ 'string.maxBytes': `"{{#label}}" must be at most ${PASSWORD_MAX_BYTES} UTF-8 bytes` });

/** A calendar date, YYYY-MM-DD, that exists (no 2023-02-29). */
export const calendarDate = () =>
  Joi.string()
    .pattern(/^\d{4}-\d{2}-\d{2}$/)
    .custom((value: string, helpers) => {
      const d = new Date(`${value}T00:00:00Z`);
      if (Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== value) return helpers.error('date.invalid');
      return value;
    })
    .messages({
      'date.invalid': '"{{#label}}" is not a real date',
      'string.pattern.base': '"{{#label}}" must be YYYY-MM-DD',
    });

/** A calendar date that exists and is not in the future. */
export const pastDate = () =>
  calendarDate()
    .custom((value: string, helpers) => {
      const d = new Date(`${value}T00:00:00Z`);
      if (d.getTime() > Date.now() + 86400_000) return helpers.error('date.future');
      if (d.getUTCFullYear() < 1900) return helpers.error('date.tooOld');
      return value;
    })
    .messages({
      'date.future': '"{{#label}}" is in the future',
      'date.tooOld': '"{{#label}}" is before 1900',
    });

/** An instant in ISO 8601 with its offset (`Z` or `+01:00`), kept as the caller wrote it. */
export const isoInstant = () =>
  Joi.string()
    .pattern(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/i)
    .custom((value: string, helpers) => (Number.isNaN(Date.parse(value)) ? helpers.error('date.invalid') : value))
    .messages({
      'string.pattern.base': '"{{#label}}" must be an ISO 8601 date-time with an offset, such as 2027-01-31T09:00:00Z',
      'date.invalid': '"{{#label}}" is not a real date-time',
    });

/** An IANA name from GET /utils/timezones, matched by exact case. */
export const timezone = () =>
  Joi.string()
    .custom((value: string, helpers) => (isTimezone(value) ? value : helpers.error('timezone.unknown')))
    .messages({ 'timezone.unknown': '"{{#label}}" is not a known IANA timezone (see GET /utils/timezones)' });

export const postTime = () =>
  Joi.string()
    .pattern(/^([01]\d|2[0-3]):[0-5]\d$/)
    .messages({ 'string.pattern.base': '"{{#label}}" must be HH:MM (24-hour)' });

/** An international number, answered in E.164 (libphonenumber-js, packages/domain). */
export const phone = () =>
  Joi.string()
    .max(40)
    .custom((value: string, helpers) => {
      const r = normalisePhone(value);
      return 'e164' in r ? r.e164 : helpers.error('phone.invalid', { why: PHONE_PROBLEM_MESSAGES[r.problem] });
    })
    .messages({ 'phone.invalid': '"{{#label}}" {{#why}}' });

/** A BCP 47 tag, answered in its canonical case (en-gb → en-GB). */
export const locale = () =>
  Joi.string()
    .max(35)
    .custom((value: string, helpers) => {
      try {
        return Intl.getCanonicalLocales(value)[0];
      } catch {
        return helpers.error('locale.invalid');
      }
    })
    .messages({ 'locale.invalid': '"{{#label}}" is not a BCP 47 language tag (en-GB, fr)' });

export const name = () => Joi.string().trim().min(1).max(200);

/** An answer's object, as its serializer writes it: every key is always there (null when it has no value). */
export const answer = (keys: Record<string, Joi.Schema>) =>
  Joi.object(Object.fromEntries(Object.entries(keys).map(([k, s]) => [k, s.required()])));

/** The query of a paged collection: `limit` 1–200 (50), and the opaque `cursor` a previous page answered. */
export const pageQuery = (extra: Record<string, Joi.Schema> = {}) =>
  Joi.object({
    ...extra,
    limit: Joi.number().integer().min(1).max(200).default(50),
    cursor: Joi.string()
      .max(500)
      .custom((v: string, helpers) => (decodeCursor(v) ? v : helpers.error('cursor.invalid')))
      .messages({ 'cursor.invalid': '"{{#label}}" is not a cursor this collection answered' }),
  });

/** A page of a collection: its items, and the cursor of the next page (null on the last). */
export const pageOf = (item: Joi.Schema) =>
  answer({ items: Joi.array().items(item), next_cursor: Joi.string().allow(null) });
