import { expect } from 'chai';
import { toFields } from '../../src/services/client-fields';
import { csvColumns, fastImportRow, importRowSchema } from '../../src/services/client-import-rows';

// What joi answers for a row, as the columns an import writes (CSV rows first gathered as the import does).
function joiAnswer(item: Record<string, unknown>, csv: boolean): { value?: unknown; error: boolean } {
  let input: Record<string, unknown> = item;
  if (csv) {
    input = {};
    const optOut: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(item)) {
      if (v === '') continue;
      if (k.startsWith('opt_out_')) optOut[k.slice('opt_out_'.length)] = v;
      else input[k] = v;
    }
    if (Object.keys(optOut).length) input.opt_out = optOut;
  }
  const { value, error } = importRowSchema.validate(input, { abortEarly: false, convert: true });
  return error ? { error: true } : { value: toFields(value as object), error: false };
}

const plainCsv: Record<string, string>[] = [
  {
    name: 'Ada Lovelace',
    email: 'ada@example.com',
    phone: '+44 7911 123789',
    whatsapp: '+44-7911-123789',
    external_ref: 'A-1',
    notes: 'Pays late',
  },
  {
    name: '  Bob  ',
    email: ' Bob.Smith+tag@Example.co.uk ',
    phone: '+1 415 555 2671',
    whatsapp: '',
    preferred_channel: 'sms',
    timezone: 'America/New_York',
    locale: 'en-gb',
    external_ref: ' B-2 ',
    is_active: 'No',
    opt_out_email: 'yes',
    opt_out_sms: '0',
    opt_out_whatsapp: 'TRUE',
  },
  { name: 'Cy', email: 'cy@example.com', notes: '', locale: 'fr', timezone: 'Europe/Paris', is_active: 'true' },
];

const plainJson: Record<string, unknown>[] = [
  { name: 'Dee', email: 'dee@example.com', phone: null, whatsapp: '+33 6 12 34 56 78', external_ref: 'D' },
  {
    name: 'Eve',
    email: null,
    external_ref: 'E',
    is_active: false,
    opt_out: { email: true, sms: 'no' },
    preferred_channel: null,
    locale: null,
    notes: null,
  },
];

// Rows joi refuses, or that are unusual enough for the fast check to leave to joi.
const doubtfulCsv: Record<string, string>[] = [
  { name: 'National', phone: '07911 123789', external_ref: 'x' },
  { name: 'Impossible', phone: '+44 1', external_ref: 'x' },
  { name: 'Flag', opt_out_sms: 'maybe', external_ref: 'x' },
  { name: 'Padded flag', is_active: 'yes ', external_ref: 'x' },
  { name: 'Bad email', email: 'not-an-email' },
  { name: 'Two ats', email: 'a@b@example.com' },
  { name: 'One label', email: 'a@localhost' },
  { name: 'Unicode email', email: 'jörg@exämple.de' },
  { name: 'Zone', timezone: 'europe/london', external_ref: 'x' },
  { name: 'Channel', preferred_channel: 'SMS', external_ref: 'x' },
  { name: 'Locale', locale: 'not a locale!', external_ref: 'x' },
  { name: 'x'.repeat(201), external_ref: 'x' },
  { name: 'Long ref', external_ref: 'r'.repeat(201) },
  { name: 'Long phone', phone: `+44 7911 123789${' '.repeat(30)}`, external_ref: 'x' },
  { name: '', email: 'nameless@example.com' },
];

const doubtfulJson: Record<string, unknown>[] = [
  { email: 'noname@example.com' },
  { name: '   ', external_ref: 'x' },
  { name: 'Number ref', external_ref: 12 },
  { name: 'Empty ref', external_ref: '' },
  { name: 'Null zone', timezone: null, external_ref: 'x' },
  { name: 'Null flag', is_active: null, external_ref: 'x' },
  { name: 'Number flag', is_active: 1, external_ref: 'x' },
  { name: 'Null opt-out', opt_out: null, external_ref: 'x' },
  { name: 'Array opt-out', opt_out: [true], external_ref: 'x' },
  { name: 'Odd opt-out', opt_out: { slack: true }, external_ref: 'x' },
  { name: 'Sneaky', id: '00000000-0000-4000-8000-000000000000', external_ref: 'x' },
  { name: 'Sneaky', workspace_id: '00000000-0000-4000-8000-000000000000', external_ref: 'x' },
  JSON.parse('{"name":"Proto","__proto__":{"is_active":false},"external_ref":"x"}') as Record<string, unknown>,
  { name: 'Notes', notes: 'n'.repeat(10_001), external_ref: 'x' },
  { name: 'Empty phone', phone: '', external_ref: 'x' },
];

// The fast check of a row as the import reads it: a CSV row as its cells under a header of its keys.
const fast = (row: Record<string, unknown>, csv: boolean) =>
  csv ? fastImportRow(Object.values(row), csvColumns(Object.keys(row))) : fastImportRow(row, undefined);

describe('the fast check of import rows', () => {
  it('accepts plain rows without joi, answering exactly the columns joi would', () => {
    for (const [rows, csv] of [
      [plainCsv, true],
      [plainJson, false],
    ] as const) {
      for (const row of rows) {
        const joi = joiAnswer(row, csv);
        expect(joi.error, JSON.stringify(row)).to.equal(false);
        expect(fast(row, csv), JSON.stringify(row)).to.deep.equal(joi.value);
      }
    }
  });

  it('never accepts a row joi refuses, and agrees with joi on any odd row it does accept', () => {
    let refusedByJoi = 0;
    for (const [rows, csv] of [
      [doubtfulCsv, true],
      [doubtfulJson, false],
    ] as const) {
      for (const row of rows) {
        const joi = joiAnswer(row, csv);
        const answer = fast(row, csv);
        if (joi.error) {
          refusedByJoi += 1;
          expect(answer, JSON.stringify(row)).to.equal(undefined);
        } else if (answer !== undefined) expect(answer, JSON.stringify(row)).to.deep.equal(joi.value);
      }
    }
    // The table above is mostly refusals: it would prove little if joi took them.
    expect(refusedByJoi).to.be.greaterThan(20);
  });
});
