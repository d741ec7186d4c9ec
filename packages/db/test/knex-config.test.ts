// A query error travels into logs: it must name what failed without quoting the values that were bound to it.
import net from 'node:net';
import { expect } from 'chai';
import knexFactory from 'knex';
import { getConfig } from '@nudge/config';
import { knexConfig, processKnexConfig } from '@nudge/db';

describe('the Knex configuration', () => {
  it('tells knex never to compile bound values into an error message', () => {
    // With pg's positional $n placeholders knex's formatter leaves most messages value-free anyway; the setting
    // makes that a rule for every dialect path rather than a property of how a query happened to be written.
    expect(knexConfig('postgres://h/db')).to.have.property('compileSqlOnError', false);
  });

  describe('failing fast', () => {
    it('gives every process a statement_timeout, so a stuck statement is cancelled by the server', async () => {
      const db = knexFactory(knexConfig(getConfig().databaseUrl, { statementTimeoutMs: 200 }));
      try {
        const started = Date.now();
        const err = await db.raw('SELECT pg_sleep(5)').then(
          () => undefined,
          (e: unknown) => e as { code?: string },
        );
        expect(err?.code, 'query_canceled').to.equal('57014');
        expect(Date.now() - started).to.be.below(3000);
      } finally {
        await db.destroy();
      }
      expect(processKnexConfig('postgres://h/db').connection).to.include({
        statement_timeout: getConfig().dbStatementTimeoutMs,
      });
    });

    it('fails a query within the acquire timeout when the database accepts connections but never answers', async function () {
      this.timeout(10_000);
      // A listener that takes the TCP connection and says nothing: a hung or black-holed server.
      const sockets: net.Socket[] = [];
      const server = net.createServer((s) => sockets.push(s));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const { port } = server.address() as net.AddressInfo;
      const db = knexFactory(knexConfig(`postgres://postgres@127.0.0.1:${port}/x`, { acquireTimeoutMs: 500 }));
      try {
        const started = Date.now();
        const err = await db.raw('SELECT 1').then(
          () => undefined,
          (e: unknown) => e as Error,
        );
        expect(err).to.be.instanceOf(Error);
        expect(Date.now() - started, "about the acquire timeout, not Knex's 60 s").to.be.below(3000);
      } finally {
        await db.destroy();
        for (const s of sockets) s.destroy();
        server.close();
      }
    });
  });
});
