import { expect } from 'chai';
import { parseOptOutKeyword, type OptOutKeyword } from '@nudge/domain';

// Replies as people send them. The rule: STOP words and HELP count as the first word; START and UNSTOP only alone.
const TABLE: Array<[string, OptOutKeyword | null]> = [
  // Opt-out, every keyword, any case.
  ['STOP', 'stop'],
  ['stop', 'stop'],
  ['Stop', 'stop'],
  ['sToP', 'stop'],
  ['UNSUBSCRIBE', 'stop'],
  ['unsubscribe', 'stop'],
  ['Cancel', 'stop'],
  ['END', 'stop'],
  ['quit', 'stop'],
  ['STOPALL', 'stop'],
  ['optout', 'stop'],
  ['Opt-out', 'stop'],
  ['REVOKE', 'stop'],
  // With punctuation, spaces, quotes, emoji and trailing text.
  ['Stop please.', 'stop'],
  ['STOP.', 'stop'],
  ['stop!!!', 'stop'],
  ['  stop  ', 'stop'],
  ['\nSTOP\n', 'stop'],
  ['"STOP"', 'stop'],
  ['Stop, thanks', 'stop'],
  ['STOP texting me', 'stop'],
  ['stop it', 'stop'],
  ['Unsubscribe me please', 'stop'],
  ['Cancel my reminders', 'stop'],
  ['Quit messaging me!', 'stop'],
  ['🛑 STOP', 'stop'],
  ['STOP 🙏', 'stop'],
  ['ＳＴＯＰ', 'stop'],
  ['...stop', 'stop'],
  // Opt-in: the keyword alone.
  ['START', 'start'],
  ['start', 'start'],
  ['Start.', 'start'],
  ['UNSTOP', 'start'],
  ['unstop!', 'start'],
  [' Start ', 'start'],
  // Help: first word.
  ['HELP', 'help'],
  ['help', 'help'],
  ['Help!', 'help'],
  ['HELP me', 'help'],
  ['help?', 'help'],
  // Ordinary messages that must not match.
  ["don't stop", null],
  ['Dont stop', null],
  ['stopwatch', null],
  ['Stopped by the office yesterday', null],
  ['non-stop reminders are annoying', null],
  ['Stop-', 'stop'],
  ['STOP ALL', 'stop'],
  ['Please stop', null],
  ['Please help me understand', null],
  ['Can you help?', null],
  ['helpful, thanks', null],
  ['Start date is Monday?', null],
  ['Start sending again please', null],
  ['starting tomorrow', null],
  ['Restart', null],
  ['Ending soon?', null],
  ['endless', null],
  ['cancellation fee?', null],
  ['Thanks, paid today', null],
  ['Will pay on Friday', null],
  ['OK', null],
  ['Yes', null],
  ['12345', null],
  ['', null],
  ['   ', null],
  ['!!!', null],
  ['🙂', null],
];

describe('parseOptOutKeyword', () => {
  for (const [reply, expected] of TABLE) {
    it(`reads ${JSON.stringify(reply)} as ${expected ?? 'an ordinary message'}`, () => {
      expect(parseOptOutKeyword(reply)).to.equal(expected);
    });
  }

  it('reads a missing body as an ordinary message', () => {
    expect(parseOptOutKeyword(undefined)).to.equal(null);
    expect(parseOptOutKeyword(null)).to.equal(null);
  });
});
