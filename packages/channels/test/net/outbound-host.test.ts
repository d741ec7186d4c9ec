import { expect } from 'chai';
import { checkOutboundHost, checkSmtpUrl, isInternalAddress } from '@nudge/channels';

const blocking = { blockInternalAddresses: true };

describe('the outbound host rule', () => {
  describe('isInternalAddress', () => {
    it('calls loopback, private, link-local and mapped internal addresses internal', () => {
      for (const a of [
        '127.0.0.1',
        '10.0.0.1',
        '172.16.5.4',
        '192.168.1.1',
        '169.254.169.254',
        '::1',
        'fe80::1',
        'fd00::1',
        '::ffff:10.0.0.1',
        '0.0.0.0',
        '100.64.0.1',
      ])
        expect(isInternalAddress(a), a).to.equal(true);
    });

    it('calls public addresses public', () => {
      for (const a of ['93.184.215.14', '8.8.8.8', '2606:4700:4700::1111'])
        expect(isInternalAddress(a), a).to.equal(false);
    });
  });

  describe('checkOutboundHost', () => {
    it('refuses a name that resolves to loopback, and approves a public literal as the address to connect to', async () => {
      expect(await checkOutboundHost('localhost', blocking)).to.deep.equal({ problem: 'internal_address' });
      expect(await checkOutboundHost('[::1]', blocking)).to.deep.equal({ problem: 'internal_address' });
      expect(await checkOutboundHost('93.184.215.14', blocking)).to.deep.equal({ address: '93.184.215.14' });
      expect(await checkOutboundHost('no-such-host.invalid', blocking)).to.deep.equal({ problem: 'unresolvable' });
    });

    it('lets anything through, unresolved, when the policy does not block', async () => {
      expect(await checkOutboundHost('localhost', { blockInternalAddresses: false })).to.deep.equal({
        address: 'localhost',
      });
    });
  });

  describe('checkSmtpUrl', () => {
    it('wants smtp:// or smtps:// with a host, and applies the host rule', async () => {
      expect(await checkSmtpUrl('http://mail.example.com', blocking)).to.equal('invalid_url');
      expect(await checkSmtpUrl('not a url', blocking)).to.equal('invalid_url');
      expect(await checkSmtpUrl('smtp://u:p@127.0.0.1:25', blocking)).to.equal('internal_address');
      expect(await checkSmtpUrl('smtps://u:p@93.184.215.14:465', blocking)).to.equal(undefined);
    });
  });
});
