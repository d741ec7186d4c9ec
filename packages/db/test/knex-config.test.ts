// A query error travels into logs: it must name what failed without quoting the values that were bound to it.
import { expect } from 'chai';
import { getDb, knexConfig } from '@nudge/db';

describe('the Knex configuration', () => {
  it('tells knex never to compile bound values into an error message', () => {
    // With pg's positional $n placeholders knex's formatter leaves most messages value-free anyway; the setting
    // makes that a rule for every dialect path rather than a property of how a query happened to be written.
    expect(knexConfig('postgres://h/db')).to.have.property('compileSqlOnError', false);
  });

  it('keeps bound values out of query errors, so a failed write logs no password hash or email', async () => {
    const db = getDb();
    const email = `dup-${Date.now()}@errors.example`;
    const hash = '$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy';
    await db('users').insert({ email, password_hash: hash, name: 'First' });
    try {
      const err = await db('users')
        .insert({ email, password_hash: hash, name: 'Second' })
        .then(
          () => undefined,
          (e: unknown) => e as Error & { code?: string },
        );
      expect(err, 'the duplicate insert failed').to.be.instanceOf(Error);
      expect(err?.code).to.equal('23505');
      expect(err?.message).to.not.contain(hash);
      expect(err?.message).to.not.contain('Second');
    } finally {
      await db('users').where({ email }).delete();
    }
  });
});
