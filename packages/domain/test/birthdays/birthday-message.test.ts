import { expect } from 'chai';
import { formatBirthdayNames, renderBirthdayMessage, validateBirthdayTemplate } from '@nudge/domain';

describe('birthday message', () => {
  describe('renderBirthdayMessage', () => {
    it('follows Birthday Buddy for one name', () => {
      expect(renderBirthdayMessage(['Ada'])).to.equal(':partying_face: Happy Birthday, *Ada*! :tada:');
    });

    it('bolds each name, orders them by name and joins them with commas and "and"', () => {
      expect(renderBirthdayMessage(['Bob', 'alice'])).to.equal(
        ':partying_face: Happy Birthday, *alice* and *Bob*! :tada:',
      );
      expect(formatBirthdayNames(['Carol', 'Alice', 'Bob'])).to.equal('*Alice*, *Bob* and *Carol*');
      expect(formatBirthdayNames(['D', 'C', 'B', 'A'])).to.equal('*A*, *B*, *C* and *D*');
    });

    it('escapes &, < and > in names so a name cannot ping a channel', () => {
      expect(formatBirthdayNames(['<!channel>', 'Tom & Jerry'])).to.equal('*&lt;!channel&gt;* and *Tom &amp; Jerry*');
    });

    it('never shows an email address, even if one reaches it as a name', () => {
      const text = renderBirthdayMessage(['grace@example.com', 'Linus']);
      expect(text).to.equal(':partying_face: Happy Birthday, *grace* and *Linus*! :tada:');
      expect(text).not.to.match(/@/);
    });

    it('fills a workspace template with {names} and {count}', () => {
      expect(renderBirthdayMessage(['Bo', 'Al'], '{count} birthdays today: {names} :cake:')).to.equal(
        '2 birthdays today: *Al* and *Bo* :cake:',
      );
      expect(renderBirthdayMessage(['Al'], '   ')).to.equal(':partying_face: Happy Birthday, *Al*! :tada:');
    });

    it('strips an address from a stored template that predates validation', () => {
      expect(renderBirthdayMessage(['Al'], 'Hi {names}, mail hr@corp.example')).to.equal('Hi *Al*, mail hr');
    });
  });

  describe('validateBirthdayTemplate', () => {
    it('accepts a template with {names} and optionally {count}', () => {
      expect(validateBirthdayTemplate('Happy birthday {names}!')).to.equal(undefined);
      expect(validateBirthdayTemplate('{count} cakes for {names} <!here>')).to.equal(undefined);
    });

    it('refuses a template without {names}', () => {
      expect(validateBirthdayTemplate('Happy birthday!')).to.match(/\{names\}/);
    });

    it('refuses any other placeholder', () => {
      expect(validateBirthdayTemplate('{names} turns {age}')).to.match(/\{age\}/);
      expect(validateBirthdayTemplate('{names} {}')).to.match(/placeholder/);
    });

    it('refuses more than 500 characters', () => {
      expect(validateBirthdayTemplate(`{names}${'x'.repeat(493)}`)).to.equal(undefined);
      expect(validateBirthdayTemplate(`{names}${'x'.repeat(494)}`)).to.match(/500/);
    });

    it('refuses an email address', () => {
      expect(validateBirthdayTemplate('{names}! Questions: hr@corp.example')).to.match(/email/);
    });
  });
});
