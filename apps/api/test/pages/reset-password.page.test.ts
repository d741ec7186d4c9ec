// The reset link must lead to a working page, and that page must leak the token in its URL nowhere.
import { expect } from 'chai';
import request from 'supertest';
import { testApp } from '../helpers';
import { appWith } from '../security/security-helpers';

const HOST = 'api.example.com';

describe('GET /reset-password', () => {
  const production = () =>
    appWith({ env: 'production', isProduction: true, trustedProxies: ['loopback'], allowedHosts: [HOST] }).app;

  it('serves a form whose only script is a same-origin file, under the production CSP', async () => {
    const res = await request(production())
      .get('/reset-password?token=abc')
      .set('Host', HOST)
      .set('X-Forwarded-Proto', 'https')
      .expect(200)
      .expect('Content-Type', /text\/html/);
    expect(res.text).to.contain('<form id="reset-form"').and.contain('type="password"');
    const scripts = [...res.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
    expect(scripts).to.have.length(1);
    expect(scripts[0]?.[1]).to.contain('src="/reset-password/reset-password.js"');
    expect(scripts[0]?.[2]?.trim(), 'no inline script').to.equal('');
    const csp = String(res.headers['content-security-policy']);
    expect(csp).to.match(/script-src 'self'(;|$)/);
    expect(csp)
      .to.not.contain("unsafe-inline' ;")
      .and.not.match(/script-src[^;]*unsafe/);
  });

  it('answers with no-referrer and no-store, page and script alike, so the token is neither sent on nor kept', async () => {
    for (const path of ['/reset-password?token=abc', '/reset-password/reset-password.js']) {
      const res = await request(testApp()).get(path).expect(200);
      expect(res.headers['referrer-policy'], path).to.equal('no-referrer');
      expect(res.headers['cache-control'], path).to.equal('no-store');
    }
  });

  it('serves a script that posts the token and password as JSON to /auth/reset-password and drops the token from the address bar', async () => {
    const res = await request(testApp())
      .get('/reset-password/reset-password.js')
      .expect(200)
      .expect('Content-Type', /javascript/);
    expect(res.text).to.contain("fetch('/auth/reset-password'");
    expect(res.text).to.contain("'Content-Type': 'application/json'");
    expect(res.text).to.contain('JSON.stringify({ token: token, password: password })');
    expect(res.text).to.contain('history.replaceState');
  });

  it('redirects plain HTTP to HTTPS in production, like the other browser pages', async () => {
    const res = await request(production()).get('/reset-password?token=abc').set('Host', HOST).expect(301);
    expect(res.headers.location).to.equal(`https://${HOST}/reset-password?token=abc`);
  });
});
