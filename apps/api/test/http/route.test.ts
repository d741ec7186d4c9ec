// Request bodies as routes declare them: each route parses only the kinds it names, at its own limit, and refuses
// any other non-empty body with 415, while a bodiless request passes whatever its Content-Type.
import { expect } from 'chai';
import request from 'supertest';
import express, { type RequestHandler } from 'express';
import net from 'node:net';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Joi from 'joi';
import { buildRouter, bodyOptions, type RouteSpec } from '../../src/http/route';
import { buildOpenApi } from '../../src/http/openapi';
import { errorHandler, notFoundHandler } from '../../src/http/error-handler';
import { testApp, testDeps, team, signUp, unique, type Session } from '../helpers';

const app = () => testApp();
const MiB = 1024 * 1024;

const echo = Joi.object({
  buffer: Joi.boolean().required(),
  bytes: Joi.number().integer().required(),
  hex: Joi.string().allow('').required(),
});
const echoHandler = (req: express.Request, res: express.Response) => {
  const body = req.body as unknown;
  const bytes = Buffer.isBuffer(body)
    ? body
    : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body ?? ''));
  res.json({
    buffer: Buffer.isBuffer(body),
    bytes: bytes.length,
    hex: bytes.length <= 1024 ? bytes.toString('hex') : '',
  });
};
const route = (over: Partial<RouteSpec> & Pick<RouteSpec, 'path'>): RouteSpec => ({
  method: 'post',
  summary: over.path,
  tags: ['test'],
  access: 'public',
  responses: { 200: { description: 'What arrived', schema: echo } },
  handler: echoHandler,
  ...over,
});
/** Routes no production route needs yet: a signed webhook's raw bytes, and an import's CSV with its own limit. */
const TEST_ROUTES: RouteSpec[] = [
  route({ path: '/hook', body: { kind: 'raw', types: ['application/json'] } }),
  route({ path: '/import', body: { kind: 'csv', limit: '3mb' } }),
  route({ path: '/json', schemas: { body: Joi.object({ a: Joi.string() }) } }),
  route({ path: '/bare' }),
];

/** An app of the test routes alone, built the way createApp builds the API (and serving its document the same way). */
function bodiesApp(): express.Express {
  const pass: RequestHandler = (_req, _res, next) => next();
  const a = express();
  a.use(buildRouter(TEST_ROUTES, { user: pass, superuser: pass }));
  a.use(notFoundHandler());
  a.use(errorHandler(testDeps().logger));
  a.locals.openapi = buildOpenApi(TEST_ROUTES, { title: 'test', version: '0' });
  return a;
}

async function birthdayNames(owner: Session): Promise<string[]> {
  return ((await request(app()).get('/birthdays/').set(owner.auth).expect(200)).body as { name: string }[]).map(
    (b) => b.name,
  );
}

/** Sends a request with neither Content-Length nor Transfer-Encoding, which supertest cannot; answers the status. */
async function sendWithoutLength(path: string, headers: Record<string, string>): Promise<number> {
  const server = http.createServer(app()).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const socket = net.connect(port, '127.0.0.1');
    const head = Object.entries({ Host: `127.0.0.1:${port}`, Connection: 'close', ...headers }).map(
      ([k, v]) => `${k}: ${v}`,
    );
    // Written, not ended: the server closes the connection after its answer (Connection: close).
    socket.write(`POST ${path} HTTP/1.1\r\n${head.join('\r\n')}\r\n\r\n`);
    let answer = '';
    for await (const chunk of socket) answer += String(chunk);
    return Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);
  } finally {
    server.close();
  }
}

describe('request bodies', () => {
  describe('a JSON route', () => {
    it('answers 415 UNSUPPORTED_MEDIA_TYPE to text/plain and stores nothing', async () => {
      const { owner } = await team(app());
      const before = await birthdayNames(owner);
      const res = await request(app())
        .post('/birthdays/')
        .set(owner.auth)
        .set('Content-Type', 'text/plain')
        .send(JSON.stringify({ name: 'Plain', date_of_birth: '1990-01-01' }))
        .expect(415);
      expect(res.body.code).to.equal('UNSUPPORTED_MEDIA_TYPE');
      expect(res.body.detail).to.be.a('string').and.include('application/json');
      expect(await birthdayNames(owner)).to.deep.equal(before);
    });

    it('answers 415 to a form body and stores nothing', async () => {
      const { owner } = await team(app());
      const before = await birthdayNames(owner);
      const res = await request(app())
        .post('/birthdays/')
        .set(owner.auth)
        .type('form')
        .send({ name: 'Formed', date_of_birth: '1990-01-01' })
        .expect(415);
      expect(res.body).to.have.keys('detail', 'code');
      expect(await birthdayNames(owner)).to.deep.equal(before);
    });

    it('still answers malformed JSON with 400 MALFORMED_JSON', async () => {
      const res = await request(app())
        .post('/auth/jwt/refresh')
        .set('Content-Type', 'application/json')
        .send('{"refresh_token": ')
        .expect(400);
      expect(res.body.code).to.equal('MALFORMED_JSON');
    });
  });

  describe('a bodiless request', () => {
    it('is accepted with Content-Length 0 whatever its Content-Type', async () => {
      const s = await signUp(app(), { workspace_name: unique('ws') });
      await request(app())
        .post('/auth/jwt/logout')
        .set(s.auth)
        .set('Content-Type', 'text/plain')
        .set('Content-Length', '0')
        .expect(204);
    });

    it('is accepted with neither Content-Length nor Transfer-Encoding whatever its Content-Type', async () => {
      const s = await signUp(app(), { workspace_name: unique('ws') });
      expect(
        await sendWithoutLength('/auth/jwt/logout', { ...s.auth, 'Content-Type': 'application/x-www-form-urlencoded' }),
      ).to.equal(204);
    });

    it('is accepted by a route that takes no body, which refuses any non-empty one with 415', async () => {
      await request(bodiesApp()).post('/bare').set('Content-Type', 'application/json').expect(200);
      const res = await request(bodiesApp()).post('/bare').send({ a: 'b' }).expect(415);
      expect(res.body.code).to.equal('UNSUPPORTED_MEDIA_TYPE');
    });
  });

  describe('POST /auth/jwt/login', () => {
    it('accepts the OAuth2 password form as well as JSON', async () => {
      const s = await signUp(app(), { workspace_name: unique('ws') });
      const res = await request(app())
        .post('/auth/jwt/login')
        .type('form')
        .send({ username: s.user.email, password: 'correct-horse-9', grant_type: 'password' })
        .expect(200);
      expect(res.body.token_type).to.equal('bearer');
    });
  });

  describe('a raw route', () => {
    it('receives the exact bytes sent, as a Buffer', async () => {
      const sent = Buffer.from('{"b": 1,\n  "a":"\u00e9"}  \n', 'utf8');
      // As a string: superagent would serialise a Buffer given with a JSON type. Its UTF-8 bytes are `sent`.
      const res = await request(bodiesApp())
        .post('/hook')
        .set('Content-Type', 'application/json; charset=utf-8')
        .send(sent.toString('utf8'))
        .expect(200);
      expect(res.body).to.deep.equal({ buffer: true, bytes: sent.length, hex: sent.toString('hex') });
    });

    it('answers 415 to a media type it does not declare', async () => {
      await request(bodiesApp()).post('/hook').set('Content-Type', 'text/plain').send('x').expect(415);
    });
  });

  describe('a CSV route', () => {
    it('takes 20 MiB unless it says otherwise', () => {
      expect(bodyOptions({ body: 'csv' })).to.deep.equal([{ kind: 'csv', limit: '20mb', types: ['text/csv'] }]);
      expect(bodyOptions({ body: 'json' })[0]?.limit).to.equal('1mb');
    });

    it('accepts text/csv up to its own limit, while JSON stays at 1 MiB', async () => {
      const csv = `name,date_of_birth\n${'Ann,1990-01-01\n'.repeat(Math.ceil((2.5 * MiB) / 15))}`;
      const ok = await request(bodiesApp()).post('/import').set('Content-Type', 'text/csv').send(csv).expect(200);
      expect(ok.body.bytes).to.equal(Buffer.byteLength(csv));
      const over = await request(bodiesApp())
        .post('/import')
        .set('Content-Type', 'text/csv')
        .send(csv.repeat(2))
        .expect(413);
      expect(over.body).to.deep.equal({ detail: 'Payload Too Large', code: 'PAYLOAD_TOO_LARGE' });
      await request(bodiesApp())
        .post('/json')
        .set('Content-Type', 'application/json')
        .send(JSON.stringify({ a: 'x'.repeat(1.5 * MiB) }))
        .expect(413);
      await request(bodiesApp()).post('/import').set('Content-Type', 'application/json').send('{}').expect(415);
    });
  });

  describe('the OpenAPI requestBody', () => {
    it('lists exactly the content types each route declares', async () => {
      const doc = (await request(app()).get('/openapi.json').expect(200)).body as {
        paths: Record<string, Record<string, { requestBody?: { content: object } }>>;
      };
      const types = (path: string, method = 'post') =>
        Object.keys(doc.paths[path]?.[method]?.requestBody?.content ?? {});
      expect(types('/auth/jwt/login')).to.deep.equal(['application/json', 'application/x-www-form-urlencoded']);
      expect(types('/birthdays/')).to.deep.equal(['application/json']);
      expect(types('/utils/backfill-birthdays')).to.deep.equal([]);
      const test = buildOpenApi(TEST_ROUTES, { title: 'test', version: '0' }) as typeof doc;
      expect(test.paths['/hook']?.post?.requestBody).to.deep.equal({
        required: true,
        content: { 'application/json': { schema: { type: 'string', format: 'binary' } } },
      });
      expect(Object.keys(test.paths['/import']?.post?.requestBody?.content ?? {})).to.deep.equal(['text/csv']);
    });
  });
});
