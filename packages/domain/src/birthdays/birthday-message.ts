// The text of a workspace's birthday post, and the rules a custom template must meet. Shared by the API (which
// validates a template when it is saved) and the birthdays worker (which renders the post).

export const DEFAULT_BIRTHDAY_TEMPLATE = ':partying_face: Happy Birthday, {names}! :tada:';
export const BIRTHDAY_TEMPLATE_MAX_LENGTH = 500;

const PLACEHOLDER = /\{([^{}]*)\}/g;
const ALLOWED_PLACEHOLDERS = new Set(['names', 'count']);
// Anything shaped like local@domain. `<` and `>` are excluded so Slack's own mention syntax (`<@U123>`) is not one.
const EMAIL_LIKE = /([^\s@<>]+)@[^\s@<>]+/g;

/** Slack's mrkdwn control characters, escaped so that a name such as `<!channel>` cannot ping anyone. */
export function escapeSlackText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Keeps only the part before the @ of anything email-like: a post never shows an address. */
export function stripEmailAddresses(text: string): string {
  return text.replace(EMAIL_LIKE, '$1');
}

const collator = new Intl.Collator('en', { sensitivity: 'base', numeric: true });

/** Names in bold, ordered by name: `*A*`, `*A* and *B*`, `*A*, *B* and *C*`. */
export function formatBirthdayNames(names: readonly string[]): string {
  const bold = [...names]
    .sort((a, b) => collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0))
    .map((n) => `*${escapeSlackText(stripEmailAddresses(n.trim()))}*`);
  if (bold.length <= 1) return bold.join('');
  return `${bold.slice(0, -1).join(', ')} and ${bold[bold.length - 1]}`;
}

/** The post for everyone celebrating on one local day, from the workspace's template or the default one. */
export function renderBirthdayMessage(names: readonly string[], template?: string | null): string {
  const text = template?.trim() ? template : DEFAULT_BIRTHDAY_TEMPLATE;
  const joined = formatBirthdayNames(names);
  const rendered = text.replace(PLACEHOLDER, (whole, name: string) =>
    name === 'names' ? joined : name === 'count' ? String(names.length) : whole,
  );
  // Templates are validated when saved; this holds even for one stored before the rule existed.
  return stripEmailAddresses(rendered);
}

/**
 * Why a custom template cannot be saved, or undefined when it can: it must contain `{names}`, use no placeholder
 * but `{names}` and `{count}`, be at most 500 characters long and hold no email address.
 */
export function validateBirthdayTemplate(template: string): string | undefined {
  if ([...template].length > BIRTHDAY_TEMPLATE_MAX_LENGTH)
    return `must be at most ${BIRTHDAY_TEMPLATE_MAX_LENGTH} characters long`;
  if (!template.includes('{names}')) return 'must contain {names}';
  for (const [, name] of template.matchAll(PLACEHOLDER)) {
    if (!ALLOWED_PLACEHOLDERS.has(name ?? ''))
      return `uses the unknown placeholder {${name}}; only {names} and {count} are allowed`;
  }
  if (new RegExp(EMAIL_LIKE.source).test(template)) return 'must not contain an email address';
  return undefined;
}
