import { expect } from 'chai';
import fc from 'fast-check';
import { SegmentedMessage } from 'sms-segments-calculator';
import { countSmsSegments } from '@nudge/domain';

describe('SMS segment counting', () => {
  it('fits 160 GSM-7 characters in one segment and splits at 153 beyond', () => {
    expect(countSmsSegments('a'.repeat(160))).to.deep.equal({ encoding: 'GSM-7', segments: 1, units: 160 });
    expect(countSmsSegments('a'.repeat(161))).to.deep.equal({ encoding: 'GSM-7', segments: 2, units: 161 });
    expect(countSmsSegments('a'.repeat(306)).segments).to.equal(2);
    expect(countSmsSegments('a'.repeat(307)).segments).to.equal(3);
  });

  it('counts GSM-7 extension characters such as € as two', () => {
    expect(countSmsSegments('€'.repeat(80))).to.deep.equal({ encoding: 'GSM-7', segments: 1, units: 160 });
    expect(countSmsSegments('€'.repeat(81)).segments).to.equal(2);
  });

  it('switches to UCS-2 for a character outside GSM-7: 70 in one segment, 67 each beyond', () => {
    expect(countSmsSegments('ç')).to.deep.equal({ encoding: 'UCS-2', segments: 1, units: 1 });
    expect(countSmsSegments('Ā'.repeat(70))).to.deep.equal({ encoding: 'UCS-2', segments: 1, units: 70 });
    expect(countSmsSegments('Ā'.repeat(71)).segments).to.equal(2);
    expect(countSmsSegments('Ā'.repeat(134)).segments).to.equal(2);
    expect(countSmsSegments('Ā'.repeat(135)).segments).to.equal(3);
  });

  it('counts an emoji as two UCS-2 units', () => {
    expect(countSmsSegments('😀'.repeat(35))).to.deep.equal({ encoding: 'UCS-2', segments: 1, units: 70 });
  });

  it('counts an empty text as no segment', () => {
    expect(countSmsSegments('')).to.deep.equal({ encoding: 'GSM-7', segments: 0, units: 0 });
  });

  it('answers what the calculator answers for any text, its own shortcut for plain ASCII included', () => {
    const calculator = (text: string) => {
      const m = new SegmentedMessage(text, 'auto');
      const gsm = m.getEncodingName() === 'GSM-7';
      return { encoding: gsm ? 'GSM-7' : 'UCS-2', segments: m.segmentsCount, units: m.messageSize / (gsm ? 7 : 16) };
    };
    const ascii = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).concat(['\n', '\r', '\t']);
    const others = ['€', 'ç', 'Ç', 'é', 'Ā', '😀', '^', '{', '\\', '~', '|', '[', ']', '`', '\f'];
    const plain = ascii.filter((c) => /[A-Za-z0-9 \n\r!"#$%&'()*+,\-./:;<=>?@_]/.test(c));
    const texts = fc.oneof(
      // Lengths around the one-segment and concatenated limits of both encodings.
      fc.string({ unit: fc.constantFrom(...plain), minLength: 140, maxLength: 480 }),
      fc.string({ unit: fc.constantFrom(...ascii), minLength: 1, maxLength: 480 }),
      fc.string({ unit: fc.constantFrom(...ascii, ...others), minLength: 1, maxLength: 480 }),
    );
    fc.assert(
      fc.property(texts, (text) => {
        expect(countSmsSegments(text)).to.deep.equal(calculator(text));
      }),
      { numRuns: 2000 },
    );
  });
});
