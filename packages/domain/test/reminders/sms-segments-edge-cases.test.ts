import { expect } from 'chai';
import { countSmsSegments } from '@nudge/domain';

describe('countSmsSegments at the segment boundaries', () => {
  it('fits 160 GSM-7 characters in one segment and splits 161 into two of 153', () => {
    expect(countSmsSegments('a'.repeat(160))).to.deep.equal({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(countSmsSegments('a'.repeat(161))).to.deep.equal({ encoding: 'GSM-7', units: 161, segments: 2 });
    expect(countSmsSegments('a'.repeat(306)).segments).to.equal(2);
    expect(countSmsSegments('a'.repeat(307)).segments).to.equal(3);
  });

  it('counts the GSM-7 extension characters (€, braces, brackets...) as two septets', () => {
    expect(countSmsSegments('€'.repeat(80))).to.deep.equal({ encoding: 'GSM-7', units: 160, segments: 1 });
    expect(countSmsSegments(`${'a'.repeat(159)}€`)).to.deep.equal({ encoding: 'GSM-7', units: 161, segments: 2 });
  });

  it('never splits an escape pair across two segments', () => {
    // 152 septets then a two-septet €: 154 would straddle the first part's 153, so the € starts the second.
    expect(countSmsSegments(`${'a'.repeat(152)}€${'a'.repeat(151)}`).segments).to.equal(2);
    expect(countSmsSegments(`${'a'.repeat(152)}€${'a'.repeat(152)}`).segments).to.equal(3);
  });

  it('keeps accented letters of the GSM alphabet in GSM-7', () => {
    expect(countSmsSegments('Grüße aus Köln, àéè ñ Ø Å').encoding).to.equal('GSM-7');
  });

  it('switches to UCS-2 for any other character: 70 units alone, 67 per part', () => {
    expect(countSmsSegments('ç'.repeat(70))).to.deep.equal({ encoding: 'UCS-2', units: 70, segments: 1 });
    expect(countSmsSegments('ç'.repeat(71))).to.deep.equal({ encoding: 'UCS-2', units: 71, segments: 2 });
    expect(countSmsSegments('ç'.repeat(134)).segments).to.equal(2);
    expect(countSmsSegments('ç'.repeat(135)).segments).to.equal(3);
  });

  it('counts an emoji as two UTF-16 units and never splits it', () => {
    expect(countSmsSegments('Paid 👍')).to.deep.equal({ encoding: 'UCS-2', units: 7, segments: 1 });
    // 66 units then a surrogate pair: 68 would straddle the 67 of the first part.
    expect(countSmsSegments(`${'x'.repeat(66)}👍${'x'.repeat(65)}`).segments).to.equal(2);
    expect(countSmsSegments(`${'x'.repeat(66)}👍${'x'.repeat(66)}`).segments).to.equal(3);
  });
});
