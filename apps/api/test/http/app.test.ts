import { expect } from 'chai';
import request from 'supertest';
import express from 'express';
import { createDb } from '@nudge/db';
import { createRedis } from '@nudge/queue';
import { createApp } from '../../src/index';
import { errorHandler } from '../../src/http/error-handler';
import { openApiPath } from '../../src/http/openapi';
import { testApp, testDeps, servedRoutes } from '../helpers';

describe('the HTTP skeleton', () => {
  describe('GET /health', () => {
    it('answers 200 {"status":"ok"}', async () => {
      const res = await request(testApp()).get('/health').expect(200);
      expect(res.body).to.deep.equal({ status: 'ok' });
    });
  });

  describe('GET /ready', () => {
    it('answers 200 with both checks ok when PostgreSQL and Redis answer', async () => {
      const res = await request(testApp()).get('/ready').expect(200);
      expect(res.body).to.deep.equal({ status: 'ok', checks: { postgres: 'ok', redis: 'ok' } });
    });

    it('answers 503 naming Redis when Redis is down', async () => {
      const redis = createRedis('client', 'redis://127.0.0.1:1');
      const app = createApp({ ...testDeps(), redis });
      const res = await request(app).get('/ready').expect(503);
      expect(res.body).to.deep.equal({ status: 'down', checks: { postgres: 'ok', redis: 'down' } });
      redis.disconnect();
    });

    it('answers 503 naming PostgreSQL when PostgreSQL is down', async () => {
      const db = createDb('postgres://postgres@127.0.0.1:1/none');
      const app = createApp({ ...testDeps(), db });
      const res = await request(app).get('/ready').expect(503);
      expect(res.body).to.deep.equal({ status: 'down', checks: { postgres: 'down', redis: 'ok' } });
      await db.destroy();
    });
  });

  describe('GET /utils/timezones', () => {
    it('is public and lists Intl, the backward aliases and UTC, sorted with the default sort', async () => {
      const res = await request(testApp()).get('/utils/timezones').expect(200);
      const list = res.body.timezones as string[];
      for (const tz of Intl.supportedValuesOf('timeZone')) expect(list).to.include(tz);
      for (const tz of ['UTC', 'Etc/UTC', 'GMT', 'US/Eastern', 'Asia/Kolkata', 'Europe/Kyiv', 'Asia/Calcutta'])
        expect(list).to.include(tz);
      expect(list).to.deep.equal([...list].sort());
      expect(new Set(list).size).to.equal(list.length);
    });
  });

  describe('/api/v1', () => {
    it('serves the same routes under /api/v1', async () => {
      const res = await request(testApp()).get('/api/v1/utils/timezones').expect(200);
      expect(res.body.timezones).to.include('UTC');
      await request(testApp()).get('/api/v1/health').expect(200);
    });

    it('does not serve /docs or /openapi.json under /api/v1', async () => {
      await request(testApp()).get('/api/v1/openapi.json').expect(404);
    });
  });

  describe('GET /openapi.json', () => {
    it('is an OpenAPI 3 document with /api/v1 as a second server', async () => {
      const res = await request(testApp()).get('/openapi.json').expect(200);
      expect(res.body.openapi).to.match(/^3\./);
      expect(res.body.servers).to.deep.equal([{ url: '/' }, { url: '/api/v1' }]);
    });

    it('lists every path and method the routers serve, each path once', async () => {
      const app = testApp();
      const spec = (await request(app).get('/openapi.json').expect(200)).body as {
        paths: Record<string, Record<string, unknown>>;
      };
      // The operations endpoints (/openapi.json, /docs, /metrics, /admin/queues) and the reset page sit outside the
      // API router; /api/v1 serves the same routes again.
      const served = servedRoutes(app).filter(
        (r) =>
          !['/openapi.json', '/metrics'].includes(r.path) &&
          !['/docs', '/admin', '/reset-password', '/api/v1'].some((p) => r.path.startsWith(p)),
      );
      expect(served.length).to.be.greaterThan(2);
      for (const r of served) {
        const p = openApiPath(r.path);
        expect(spec.paths, `${r.method.toUpperCase()} ${r.path}`).to.have.property(p);
        expect(spec.paths[p], `${r.method.toUpperCase()} ${r.path}`).to.have.property(r.method);
      }
      expect(Object.keys(spec.paths).some((p) => p.startsWith('/api/v1'))).to.equal(false);
    });
  });

  describe('GET /docs', () => {
    it('serves Swagger UI', async () => {
      const res = await request(testApp()).get('/docs/').expect(200);
      expect(res.text).to.match(/swagger/i);
    });
  });

  describe('errors', () => {
    it('answers an unknown route with a JSON 404', async () => {
      const res = await request(testApp()).get('/no/such/route').expect(404);
      expect(res.body).to.deep.equal({ detail: 'Not Found', code: 'NOT_FOUND' });
    });

    it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
      const res = await request(testApp())
        .post('/auth/jwt/refresh')
        .set('content-type', 'application/json')
        .send('{"a": ')
        .expect(400);
      expect(res.body.code).to.equal('MALFORMED_JSON');
    });

    it('answers a body over 1 MiB with 413 PAYLOAD_TOO_LARGE', async () => {
      const res = await request(testApp())
        .post('/auth/jwt/refresh')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ a: 'x'.repeat(1024 * 1024 + 10) }))
        .expect(413);
      expect(res.body).to.deep.equal({ detail: 'Payload Too Large', code: 'PAYLOAD_TOO_LARGE' });
    });

    it('answers a known path with an unknown method with 405 and Allow', async () => {
      const res = await request(testApp()).delete('/health').expect(405);
      expect(res.body.code).to.equal('METHOD_NOT_ALLOWED');
      expect(res.headers.allow).to.equal('GET, HEAD');
    });

    it('answers an unexpected error with a bare 500 that shows no internal text', async () => {
      const app = express();
      app.get('/boom', () => {
        throw new Error('secret internal detail');
      });
      app.use(errorHandler(testDeps().logger));
      const res = await request(app).get('/boom').expect(500);
      expect(res.body).to.deep.equal({ detail: 'Internal Server Error', code: 'INTERNAL_ERROR' });
    });
  });

  describe('headers', () => {
    it("carries helmet's headers and no X-Powered-By", async () => {
      const res = await request(testApp()).get('/health').expect(200);
      expect(res.headers['x-content-type-options']).to.equal('nosniff');
      expect(res.headers['x-frame-options']).to.equal('SAMEORIGIN');
      expect(res.headers).to.not.have.property('x-powered-by');
    });

    it('gives every response a request id', async () => {
      const res = await request(testApp()).get('/health').set('x-request-id', 'abc-123').expect(200);
      expect(res.headers['x-request-id']).to.equal('abc-123');
    });
  });
});
