import { expect } from 'chai';
import request from 'supertest';
import type { Express } from 'express';
import { testApp } from '../helpers';
import { appWith, type ConfigOverrides } from './security-helpers';

const HOST = 'api.example.com';
const ORIGIN = 'https://app.example.com';

function production(over: ConfigOverrides = {}): Express {
  return appWith({ env: 'production', isProduction: true, trustedProxies: ['loopback'], allowedHosts: [HOST], ...over })
    .app;
}

/** A request as the TLS-terminating proxy (on loopback, trusted) forwards it. */
function viaHttps(app: Express, method: 'get' | 'post' | 'options', path: string) {
  return request(app)[method](path).set('Host', HOST).set('X-Forwarded-Proto', 'https');
}

function corsHeaders(res: request.Response): string[] {
  return Object.keys(res.headers).filter((h) => h.startsWith('access-control-'));
}

function cspOf(res: request.Response): Map<string, string[]> {
  const header = String(res.headers['content-security-policy'] ?? '');
  return new Map(
    header
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name = '', ...values]) => [name, values]),
  );
}

describe('transport', () => {
  describe('in every environment', () => {
    it("puts helmet's headers on answers and on errors, without HSTS or CSP outside production", async () => {
      const answers = [
        await request(testApp()).get('/health').expect(200),
        await request(testApp()).get('/no/such/route').expect(404),
        await request(testApp()).post('/auth/jwt/login').send({}).expect(422),
      ];
      for (const res of answers) {
        expect(res.headers['x-content-type-options']).to.equal('nosniff');
        expect(res.headers['x-frame-options']).to.equal('SAMEORIGIN');
        expect(res.headers['cross-origin-opener-policy']).to.equal('same-origin');
        expect(res.headers['referrer-policy']).to.equal('no-referrer');
        expect(res.headers).to.not.have.property('strict-transport-security');
        expect(res.headers).to.not.have.property('content-security-policy');
      }
    });

    it('needs no HTTPS and checks no host outside production when ALLOWED_HOSTS is empty', async () => {
      await request(testApp()).get('/users/me').set('Host', 'anything.example').expect(401);
    });

    it('checks the host against ALLOWED_HOSTS whenever it is set', async () => {
      const { app } = appWith({ allowedHosts: [HOST] });
      await request(app).get('/utils/timezones').set('Host', HOST).expect(200);
      const res = await request(app).get('/utils/timezones').set('Host', 'evil.example').expect(400);
      expect(res.body).to.deep.equal({ detail: 'Invalid Host header', code: 'INVALID_HOST' });
    });

    it('reads X-Forwarded-Host only from TRUSTED_PROXIES', async () => {
      const untrusted = appWith({ allowedHosts: [HOST], trustedProxies: ['10.20.30.40'] }).app;
      await request(untrusted)
        .get('/utils/timezones')
        .set('Host', HOST)
        .set('X-Forwarded-Host', 'evil.example')
        .expect(200);
      const trusted = appWith({ allowedHosts: [HOST], trustedProxies: ['loopback'] }).app;
      await request(trusted)
        .get('/utils/timezones')
        .set('Host', HOST)
        .set('X-Forwarded-Host', 'evil.example')
        .expect(400);
      await request(trusted)
        .get('/utils/timezones')
        .set('Host', 'evil.example')
        .set('X-Forwarded-Host', HOST)
        .expect(200);
    });

    describe('Cache-Control: no-store', () => {
      it('is on every /auth answer, errors included, and under /api/v1', async () => {
        const { app } = appWith({ trustedProxies: ['loopback'], rateLimits: { forgotPerHour: 1 } });
        const answers = [
          await request(app).post('/auth/jwt/login').send({}).expect(422),
          await request(app)
            .post('/auth/jwt/login')
            .send({ username: 'nobody@example.com', password: 'wrong-password' })
            .expect(400),
          await request(app).post('/auth/jwt/refresh').send({ refresh_token: 'nope' }).expect(401),
          await request(app).post('/auth/jwt/logout').expect(401),
          await request(app).get('/auth/jwt/login').expect(405),
          await request(app).get('/auth/nothing-here').expect(404),
          await request(app).post('/api/v1/auth/jwt/login').send({}).expect(422),
          await request(app)
            .post('/auth/forgot-password')
            .set('X-Forwarded-For', '198.51.100.7')
            .send({ email: 'a@example.com' })
            .expect(202),
          await request(app)
            .post('/auth/forgot-password')
            .set('X-Forwarded-For', '198.51.100.7')
            .send({ email: 'a@example.com' })
            .expect(429),
        ];
        for (const res of answers) expect(res.headers['cache-control'], `answer ${res.status}`).to.equal('no-store');
      });

      it('is not forced on other routes', async () => {
        const res = await request(testApp()).get('/utils/timezones').expect(200);
        expect(res.headers['cache-control']).to.not.equal('no-store');
      });
    });

    describe('CORS', () => {
      let app: Express;
      before(() => {
        ({ app } = appWith({ corsOrigins: [ORIGIN] }));
      });

      it('allows a listed origin, with no credentials', async () => {
        const res = await request(app).get('/health').set('Origin', ORIGIN).expect(200);
        expect(res.headers['access-control-allow-origin']).to.equal(ORIGIN);
        expect(res.headers).to.not.have.property('access-control-allow-credentials');
        expect(res.headers.vary).to.match(/\bOrigin\b/);
      });

      it('answers a preflight from a listed origin with only the listed methods and Authorization and Content-Type', async () => {
        const res = await request(app)
          .options('/users/me')
          .set('Origin', ORIGIN)
          .set('Access-Control-Request-Method', 'PATCH')
          .set('Access-Control-Request-Headers', 'authorization,content-type,x-custom')
          .expect(204);
        expect(res.headers['access-control-allow-origin']).to.equal(ORIGIN);
        expect(res.headers['access-control-allow-methods']).to.equal('GET,POST,PUT,PATCH,DELETE');
        expect(res.headers['access-control-allow-headers']).to.equal('Authorization,Content-Type');
      });

      it('gives any other origin no CORS header at all, preflight included', async () => {
        const simple = await request(app).get('/health').set('Origin', 'https://evil.example').expect(200);
        expect(corsHeaders(simple)).to.deep.equal([]);
        expect(simple.headers.vary).to.match(/\bOrigin\b/);
        const preflight = await request(app)
          .options('/users/me')
          .set('Origin', 'https://evil.example')
          .set('Access-Control-Request-Method', 'DELETE');
        expect(corsHeaders(preflight)).to.deep.equal([]);
        // A listed origin's scheme or port must match too.
        const http = await request(app).get('/health').set('Origin', 'http://app.example.com').expect(200);
        expect(corsHeaders(http)).to.deep.equal([]);
      });

      it('allows no origin when CORS_ORIGINS is empty', async () => {
        const res = await request(testApp()).get('/health').set('Origin', ORIGIN).expect(200);
        expect(corsHeaders(res)).to.deep.equal([]);
      });
    });
  });

  describe('in production', () => {
    it('adds HSTS and a CSP', async () => {
      const res = await viaHttps(production(), 'get', '/health').expect(200);
      expect(res.headers['strict-transport-security']).to.match(/^max-age=\d{8,}; includeSubDomains$/);
      const csp = cspOf(res);
      expect(csp.get('default-src')).to.deep.equal(["'self'"]);
      expect(csp.get('script-src')).to.deep.equal(["'self'"]);
      expect(csp.get('object-src')).to.deep.equal(["'none'"]);
      expect(csp.get('frame-ancestors')).to.deep.equal(["'none'"]);
    });

    it('keeps Swagger UI working under the CSP: same-origin scripts only, inline styles allowed', async () => {
      const app = production();
      const page = await viaHttps(app, 'get', '/docs/').expect(200);
      const csp = cspOf(page);
      const scripts = [...page.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).to.be.at.least(3);
      for (const [, attrs = '', body = ''] of scripts) {
        // No inline script: the page would need 'unsafe-inline' or a hash in script-src.
        expect(body.trim(), attrs).to.equal('');
        const src = /src="([^"]+)"/.exec(attrs)?.[1] ?? '';
        expect(src, 'a same-origin script').to.match(/^\.\//);
        const js = await viaHttps(app, 'get', `/docs/${src.slice(2)}`).expect(200);
        expect(js.headers['content-type']).to.match(/javascript/);
      }
      // Its <style> blocks, stylesheet and icons are same-origin or inline, which the CSP allows.
      expect(page.text).to.match(/<style>/);
      expect(csp.get('style-src')).to.include("'unsafe-inline'").and.include("'self'");
      for (const [, href = ''] of page.text.matchAll(/href="([^"]+)"/g)) expect(href).to.match(/^\.\//);
      expect(csp.get('connect-src')).to.deep.equal(["'self'"]);
      await viaHttps(app, 'get', '/openapi.json').expect(200);
    });

    it('redirects plain HTTP to HTTPS for the browser pages', async () => {
      const app = production();
      for (const path of [
        '/docs',
        '/docs/',
        '/docs/swagger-ui-init.js',
        '/admin/queues',
        '/admin/queues/api/queues?x=1',
      ]) {
        const res = await request(app).get(path).set('Host', HOST).expect(301);
        expect(res.headers.location).to.equal(`https://${HOST}${path}`);
      }
      await request(app).head('/docs/').set('Host', HOST).expect(301);
    });

    it('refuses any other plain-HTTP request with 403 HTTPS_REQUIRED', async () => {
      const app = production();
      for (const [method, path] of [
        ['get', '/users/me'],
        ['post', '/auth/jwt/login'],
        ['get', '/openapi.json'],
        ['get', '/api/v1/health'],
        ['post', '/docs/'],
      ] as const) {
        const res = await request(app)[method](path).set('Host', HOST).expect(403);
        expect(res.body).to.deep.equal({ detail: 'HTTPS is required', code: 'HTTPS_REQUIRED' });
        expect(res.headers['x-content-type-options']).to.equal('nosniff');
        if (path.startsWith('/auth')) expect(res.headers['cache-control']).to.equal('no-store');
      }
    });

    it('answers /health and /ready over plain HTTP, to any host', async () => {
      const app = production();
      await request(app).get('/health').set('Host', '10.1.2.3:8000').expect(200);
      await request(app).get('/ready').set('Host', '10.1.2.3:8000').expect(200);
    });

    it('trusts X-Forwarded-Proto only from TRUSTED_PROXIES', async () => {
      await viaHttps(production(), 'get', '/utils/timezones').expect(200);
      const untrusted = await viaHttps(
        production({ trustedProxies: ['10.20.30.40'] }),
        'get',
        '/utils/timezones',
      ).expect(403);
      expect(untrusted.body.code).to.equal('HTTPS_REQUIRED');
      await viaHttps(production({ trustedProxies: [] }), 'get', '/utils/timezones').expect(403);
    });

    it('refuses a host not in ALLOWED_HOSTS with 400 INVALID_HOST, before any redirect', async () => {
      const app = production();
      const res = await request(app)
        .get('/utils/timezones')
        .set('Host', 'evil.example')
        .set('X-Forwarded-Proto', 'https')
        .expect(400);
      expect(res.body).to.deep.equal({ detail: 'Invalid Host header', code: 'INVALID_HOST' });
      // No redirect to a host the client chose.
      await request(app).get('/docs/').set('Host', 'evil.example').expect(400);
      // X-Forwarded-Host from a trusted proxy is the host checked.
      await viaHttps(app, 'get', '/utils/timezones').set('X-Forwarded-Host', 'evil.example').expect(400);
    });

    it('matches hosts case-insensitively, and a leading dot admits subdomains', async () => {
      const app = production({ allowedHosts: ['.example.org', HOST] });
      for (const host of ['API.EXAMPLE.COM', 'example.org', 'eu.api.example.org', `${HOST}:443`]) {
        await request(app).get('/utils/timezones').set('Host', host).set('X-Forwarded-Proto', 'https').expect(200);
      }
      await request(app)
        .get('/utils/timezones')
        .set('Host', 'badexample.org')
        .set('X-Forwarded-Proto', 'https')
        .expect(400);
    });

    it('accepts only the host of PUBLIC_BASE_URL when ALLOWED_HOSTS is empty', async () => {
      const app = production({ allowedHosts: [], publicBaseUrl: 'https://nudge.example.net' });
      await request(app)
        .get('/utils/timezones')
        .set('Host', 'nudge.example.net')
        .set('X-Forwarded-Proto', 'https')
        .expect(200);
      await request(app).get('/utils/timezones').set('Host', HOST).set('X-Forwarded-Proto', 'https').expect(400);
    });
  });
});
