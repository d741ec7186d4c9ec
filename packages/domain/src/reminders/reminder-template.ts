// The text of a reminder: which variables a template may use (checked when it is saved, so a typo answers 422
// instead of reaching a client as "{{client.nmae}}") and how they are filled in when it is rendered. Shared by
// the API (validation, preview) and the dispatch worker (the message actually sent).

export const REMINDER_TEMPLATE_VARIABLES = [
  'client.name',
  'reminder.title',
  'due_date',
  'amount',
  'payment_link',
  'document_link',
] as const;
export type ReminderTemplateVariable = (typeof REMINDER_TEMPLATE_VARIABLES)[number];

export const DEFAULT_SUBJECT_TEMPLATE = '{{reminder.title}}';

export interface ReminderTemplateValues {
  clientName: string;
  title: string;
  dueDate?: string | null;
  amountMinor?: number | null;
  currency?: string | null;
  locale?: string | null;
  paymentLink?: string | null;
  documentLink?: string | null;
}

const VARIABLE = /\{\{\s*([^{}]*?)\s*\}\}/g;
const KNOWN = new Set<string>(REMINDER_TEMPLATE_VARIABLES);
const FALLBACK_LOCALE = 'en';

/** The unknown variables a template uses, each once, in order of appearance (empty when it is valid). */
export function validateReminderTemplate(template: string): string[] {
  const unknown: string[] = [];
  for (const m of template.matchAll(VARIABLE)) {
    const name = m[1] as string;
    if (!KNOWN.has(name) && !unknown.includes(name)) unknown.push(name);
  }
  return unknown;
}

/** Whether Intl knows `currency` as an ISO 4217 code (any case). */
export function isKnownCurrency(currency: string): boolean {
  return /^[A-Za-z]{3}$/.test(currency) && Intl.supportedValuesOf('currency').includes(currency.toUpperCase());
}

/** How many minor units a major unit of `currency` has, as a power of ten: 2 for EUR, 0 for JPY, 3 for BHD. */
export function currencyMinorDigits(currency: string): number {
  return new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** A locale Intl accepts, or the fallback: a client's stored locale must not break a send. */
function usableLocale(locale: string | null | undefined): string {
  if (!locale) return FALLBACK_LOCALE;
  try {
    return Intl.getCanonicalLocales(locale)[0] ?? FALLBACK_LOCALE;
  } catch {
    return FALLBACK_LOCALE;
  }
}

/** An amount in minor units, formatted in the client's locale and the reminder's currency: 123456 EUR, de → "1.234,56 €". */
export function formatReminderAmount(amountMinor: number, currency: string, locale?: string | null): string {
  const code = currency.toUpperCase();
  const digits = currencyMinorDigits(code);
  return new Intl.NumberFormat(usableLocale(locale), { style: 'currency', currency: code }).format(
    amountMinor / 10 ** digits,
  );
}

/** A due date (`YYYY-MM-DD`) as the client's locale writes it: "15 March 2027" in en-GB. */
export function formatReminderDueDate(dueDate: string, locale?: string | null): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(dueDate);
  if (!m) return dueDate;
  const at = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(usableLocale(locale), { dateStyle: 'long', timeZone: 'UTC' }).format(at);
}

/** The template with every known variable filled in; a value that is missing renders as empty text. */
export function renderReminderTemplate(template: string, values: ReminderTemplateValues): string {
  const amount =
    values.amountMinor != null && values.currency
      ? formatReminderAmount(values.amountMinor, values.currency, values.locale)
      : '';
  const byName: Record<ReminderTemplateVariable, string> = {
    'client.name': values.clientName,
    'reminder.title': values.title,
    due_date: values.dueDate ? formatReminderDueDate(values.dueDate, values.locale) : '',
    amount,
    payment_link: values.paymentLink ?? '',
    document_link: values.documentLink ?? '',
  };
  return template.replace(VARIABLE, (whole, name: string) =>
    KNOWN.has(name) ? byName[name as ReminderTemplateVariable] : whole,
  );
}
