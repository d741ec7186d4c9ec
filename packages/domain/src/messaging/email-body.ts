// A reminder's email body, from the plain text its template renders: that text as the text/plain part, and an HTML
// part built from it with every character escaped (the text carries client names and amounts a workspace typed, so
// none of it may become markup), paragraphs at blank lines, line breaks kept, and http(s) links made clickable.

export interface EmailBody {
  text: string;
  html: string;
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);
}

// A URL ends before whitespace or a character that cannot be in one; trailing sentence punctuation is not part of it.
const URL_RE = /\bhttps?:\/\/[^\s<>"']+/g;
const TRAILING = /[.,;:!?)\]]+$/;

function linkify(line: string): string {
  let out = '';
  let last = 0;
  for (const m of line.matchAll(URL_RE)) {
    const url = m[0].replace(TRAILING, '');
    const at = m.index;
    out += escapeHtml(line.slice(last, at));
    out += `<a href="${escapeHtml(url)}">${escapeHtml(url)}</a>`;
    last = at + url.length;
  }
  return out + escapeHtml(line.slice(last));
}

/** The plain-text and HTML parts of an email whose content is `text`. */
export function emailBodyFromText(text: string): EmailBody {
  const normalised = text.replace(/\r\n?/g, '\n').trim();
  const paragraphs = normalised
    .split(/\n[ \t]*\n+/)
    .map((p) => p.trim())
    .filter((p) => p.length > 0)
    .map((p) => `<p>${p.split('\n').map(linkify).join('<br>\n')}</p>`);
  const html =
    '<!doctype html>\n<html><head><meta charset="utf-8"></head>' +
    `<body style="font-family:sans-serif;line-height:1.5">\n${paragraphs.join('\n')}\n</body></html>\n`;
  return { text: `${normalised}\n`, html };
}
