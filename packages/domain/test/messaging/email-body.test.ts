import { expect } from 'chai';
import { emailBodyFromText, escapeHtml } from '@nudge/domain';

describe('escapeHtml', () => {
  it('escapes the five characters that can change HTML', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&</a>`)).to.equal(
      '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&lt;/a&gt;',
    );
  });
});

describe('emailBodyFromText', () => {
  it('keeps the text as the plain part and escapes everything in the HTML part', () => {
    const body = emailBodyFromText('Hello <script>alert(1)</script> & "Ada"');
    expect(body.text).to.equal('Hello <script>alert(1)</script> & "Ada"\n');
    expect(body.html).to.contain('<p>Hello &lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;Ada&quot;</p>');
    expect(body.html).to.not.contain('<script>');
  });

  it('turns blank lines into paragraphs and single line breaks into <br>', () => {
    const { html } = emailBodyFromText('Dear Ada,\r\n\r\nInvoice 7 is due.\nAmount: 25 EUR\n\n\nThanks');
    expect(html).to.contain('<p>Dear Ada,</p>\n<p>Invoice 7 is due.<br>\nAmount: 25 EUR</p>\n<p>Thanks</p>');
  });

  it('links http(s) URLs, leaving trailing punctuation outside and escaping the URL', () => {
    const { html } = emailBodyFromText('Pay at https://pay.example/i/7?a=1&b=2. Or http://x.test/"q');
    expect(html).to.contain(
      'Pay at <a href="https://pay.example/i/7?a=1&amp;b=2">https://pay.example/i/7?a=1&amp;b=2</a>. Or ',
    );
    expect(html).to.contain('<a href="http://x.test/">http://x.test/</a>&quot;q');
  });

  it('does not link other schemes', () => {
    expect(emailBodyFromText('javascript:alert(1)').html).to.not.contain('<a ');
  });
});
