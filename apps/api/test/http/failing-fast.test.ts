// No statement may hang a request: with PostgreSQL accepting connections but never answering, a request that needs
// it answers 503 within about the acquire timeout, not after Knex's default 60 s, and never a 500.
import net from 'node:net';
import { expect } from 'chai';
import request from 'supertest';
import knexFactory, { type Knex } from 'knex';
import { knexConfig } from '@nudge/db';
import { createApp } from '../../src/index';
import { testDeps } from '../helpers';

describe('a request while PostgreSQL does not answer', () => {
  let server: net.Server;
  const sockets: net.Socket[] = [];
  let hung: Knex;

  before(async () => {
    server = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    hung = knexFactory(knexConfig(`postgres://postgres@127.0.0.1:${port}/x`, { acquireTimeoutMs: 500 }));
  });
  after(async () => {
    await hung.destroy();
    for (const s of sockets) s.destroy();
    server.close();
  });

  it('answers 503 SERVICE_UNAVAILABLE within a few seconds', async function () {
    this.timeout(15_000);
    const app = createApp({ ...testDeps(), db: hung });
    const started = Date.now();
    const res = await request(app)
      .post('/auth/jwt/login')
      .type('form')
      .send({ username: 'someone@example.com', password: 'whatever-1' });
    expect(res.status).to.equal(503);
    expect(res.body).to.deep.equal({
      detail: 'The database is unavailable, retry shortly',
      code: 'SERVICE_UNAVAILABLE',
    });
    expect(Date.now() - started).to.be.below(5000);
  });
});
