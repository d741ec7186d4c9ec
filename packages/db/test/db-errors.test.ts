// The typed errors every query throws instead of the driver's SQLSTATE codes: services rely on them to tell a lost
// race for a unique name from a vanished parent row, whatever repository function or transaction ran the query.
import crypto from 'node:crypto';
import { expect } from 'chai';
import {
  ForeignKeyViolation,
  InvalidValue,
  UniqueViolation,
  getDb,
  insertUser,
  insertWorkspace,
  isDbUnavailable,
  translateDbError,
} from '@nudge/db';

async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the query to fail');
}

const unique = (what: string) => `${what}-${crypto.randomBytes(6).toString('hex')}`;

describe('packages/db errors', () => {
  const db = getDb();

  it('throws UniqueViolation naming the constraint for a duplicate email, whatever its case', async () => {
    const email = `${unique('dup')}@example.com`;
    await insertUser(db, { email, password_hash: 'x' });
    const err = await rejection(insertUser(db, { email: email.toUpperCase(), password_hash: 'x' }));
    expect(err).to.be.instanceOf(UniqueViolation);
    expect(err).to.include({ constraint: 'users_email_lower_unique', table: 'users', code: '23505' });
    expect((err as Error).cause).to.have.property('code', '23505');
  });

  it('throws UniqueViolation inside a transaction too', async () => {
    const name = unique('ws');
    await insertWorkspace(db, { name });
    const err = await rejection(db.transaction((trx) => insertWorkspace(trx, { name: name.toUpperCase() })));
    expect(err).to.be.instanceOf(UniqueViolation);
    expect(err).to.have.property('constraint', 'workspaces_name_lower_unique');
  });

  it('throws ForeignKeyViolation for a row that references no existing row', async () => {
    const err = await rejection(
      insertUser(db, {
        email: `${unique('fk')}@example.com`,
        password_hash: 'x',
        workspace_id: crypto.randomUUID(),
        role: 'member',
      }),
    );
    expect(err).to.be.instanceOf(ForeignKeyViolation);
    expect(err).to.include({ table: 'users', code: '23503' });
    expect((err as ForeignKeyViolation).constraint)
      .to.be.a('string')
      .and.not.equal('');
  });

  it('throws InvalidValue for a value the column cannot hold, from a raw query as well', async () => {
    expect(await rejection(db.raw('SELECT ?::uuid', ['not-a-uuid']))).to.be.instanceOf(InvalidValue);
  });

  it('leaves every other error as the driver threw it', async () => {
    const err = await rejection(db.raw('SELECT * FROM no_such_table'));
    expect(err).to.not.be.instanceOf(UniqueViolation);
    expect(err).to.have.property('code', '42P01');
    const plain = new Error('not a database error');
    expect(translateDbError(plain)).to.equal(plain);
  });
});

describe('isDbUnavailable', () => {
  it("knows pg's lost connection by its message, bare or after the query Knex puts before it", () => {
    expect(isDbUnavailable(new Error('Connection terminated unexpectedly'))).to.equal(true);
    const wrapped = 'select * from "clients" where "workspace_id" = $1 limit $2 - Connection terminated unexpectedly';
    expect(isDbUnavailable(new Error(wrapped))).to.equal(true);
    expect(isDbUnavailable(new Error('select 1 - syntax error at or near "selec"'))).to.equal(false);
  });
});
