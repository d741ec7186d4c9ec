// Reading an SMS or WhatsApp reply as an opt-out, opt-in or help request. The rule is asymmetric on purpose:
// - STOP and its synonyms, and HELP, count when they are the FIRST WORD (Twilio's rule): "Stop please." and
//   "HELP me" match, "don't stop", "stopwatch" and "Please help me understand" do not. Reading a STOP too eagerly
//   costs one message the person can undo with START; missing one keeps texting someone who asked us to stop.
// - START and UNSTOP count only when they are the WHOLE reply (punctuation aside): "Start." matches, "Start date
//   is Monday?" does not. Reading an opt-in too eagerly sends messages to someone who refused them.
// Case, surrounding punctuation, quotes, emoji and full-width letters do not matter.

export type OptOutKeyword = 'stop' | 'start' | 'help';

/** Twilio's default opt-out words (STOP, STOPALL, UNSUBSCRIBE, CANCEL, END, QUIT, OPTOUT, REVOKE). */
const STOP_WORDS = new Set(['stop', 'stopall', 'unsubscribe', 'cancel', 'end', 'quit', 'optout', 'revoke']);
const START_WORDS = new Set(['start', 'unstop']);
const HELP_WORDS = new Set(['help']);

// A word: letters and digits, with apostrophes and hyphens inside ("don't", "opt-out").
const FIRST_WORD = /^[^\p{L}\p{N}]*([\p{L}\p{N}]+(?:['’-][\p{L}\p{N}]+)*)(.*)$/su;
const NOTHING_BUT_PUNCTUATION = /^[^\p{L}\p{N}]*$/u;

/** What an inbound reply asks for, or null for an ordinary message. */
export function parseOptOutKeyword(body: string | null | undefined): OptOutKeyword | null {
  if (!body) return null;
  const m = FIRST_WORD.exec(body.normalize('NFKC'));
  if (!m) return null;
  const word = m[1]!.toLowerCase().replace(/-/g, '');
  const rest = m[2]!;
  if (STOP_WORDS.has(word)) return 'stop';
  if (HELP_WORDS.has(word)) return 'help';
  if (START_WORDS.has(word) && NOTHING_BUT_PUNCTUATION.test(rest)) return 'start';
  return null;
}
