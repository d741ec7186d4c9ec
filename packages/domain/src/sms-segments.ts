// How many SMS segments a text takes, as carriers and Twilio count them: GSM-7 when every character is in the GSM
// 03.38 alphabet (160 septets alone, 153 per part when split; the extension characters take two), else UCS-2
// (70 UTF-16 units alone, 67 per part). A part never ends between the two halves of an escape or a surrogate pair.

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsSegmentCount {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  /** An empty text is still one message. */
  segments: number;
}

const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENDED = '\f^{}\\[~]|€';
const BASIC = new Set(GSM_BASIC);
const EXTENDED = new Set(GSM_EXTENDED);

/** Fills parts of `perPart` units with items of the given widths, never splitting one item across two parts. */
function countParts(widths: number[], perPart: number): number {
  let parts = 1;
  let used = 0;
  for (const w of widths) {
    if (used + w > perPart) {
      parts += 1;
      used = 0;
    }
    used += w;
  }
  return parts;
}

export function smsSegments(text: string): SmsSegmentCount {
  const chars = Array.from(text);
  if (chars.every((c) => BASIC.has(c) || EXTENDED.has(c))) {
    const widths = chars.map((c) => (EXTENDED.has(c) ? 2 : 1));
    const units = widths.reduce((a, b) => a + b, 0);
    return { encoding: 'GSM-7', units, segments: units <= 160 ? 1 : countParts(widths, 153) };
  }
  const widths = chars.map((c) => c.length);
  const units = widths.reduce((a, b) => a + b, 0);
  return { encoding: 'UCS-2', units, segments: units <= 70 ? 1 : countParts(widths, 67) };
}
