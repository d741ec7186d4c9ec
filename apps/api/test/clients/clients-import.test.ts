import { expect } from 'chai';
import request from 'supertest';
import { testApp, testDeps, team, unique } from '../helpers';

type Team = Awaited<ReturnType<typeof team>>;

describe('POST /clients/import', () => {
  let t: Team;
  const count = async (workspaceId: string) =>
    Number(
      ((await testDeps().db('clients').where({ workspace_id: workspaceId }).count('* as n').first()) as { n: string })
        .n,
    );

  before(async function () {
    this.timeout(30_000);
    t = await team(testApp());
  });

  const csv = (text: string, query: object = {}) =>
    request(testApp())
      .post('/clients/import')
      .query(query)
      .set(t.owner.auth)
      .set('Content-Type', 'text/csv')
      .send(text);
  const json = (rows: object, who = t.owner) => request(testApp()).post('/clients/import').set(who.auth).send(rows);

  it('imports CSV rows, numbering them from the header as row 1, and reports each failing field', async () => {
    const ref = unique('r');
    const text = [
      'name,email,phone,external_ref,opt_out_sms',
      `Ada,ada-${ref}@example.com,+44 7911 123789,${ref}-1,yes`,
      `Bob,bob-${ref}@example.com,07911 123789,${ref}-2,maybe`,
      `Cy,cy-${ref}@example.com,,,`,
    ].join('\n');
    const res = await csv(text).expect(200);
    expect(res.body).to.deep.include({ imported_count: 2, updated_count: 0, failed_count: 1 });
    expect(res.body.failed_imports).to.have.length(1);
    expect(res.body.failed_imports[0].row).to.equal(3);
    expect((res.body.failed_imports[0].errors as { field: string }[]).map((e) => e.field)).to.deep.equal([
      'phone',
      'opt_out_sms',
    ]);
    const ada = (await testDeps()
      .db('clients')
      .where({ workspace_id: t.workspaceId, external_ref: `${ref}-1` })
      .first()) as {
      opt_out_sms: boolean;
      phone_hash: string;
    };
    expect(ada.opt_out_sms).to.equal(true);
    expect(ada.phone_hash).to.be.a('string');
  });

  it('updates on a second import of the same file instead of duplicating, matching by external_ref else email', async () => {
    const ref = unique('r');
    const rows = [
      { name: 'One', external_ref: `${ref}-1`, email: `one-${ref}@example.com` },
      { name: 'Two', email: `Two-${ref}@Example.com`, phone: '+14155552671' },
    ];
    const before = await count(t.workspaceId);
    const first = await json(rows).expect(200);
    expect(first.body).to.deep.equal({ imported_count: 2, updated_count: 0, failed_count: 0, failed_imports: [] });
    const second = await json([
      { ...rows[0], name: 'One again' },
      { name: 'Two again', email: `two-${ref}@example.com` },
    ]).expect(200);
    expect(second.body).to.deep.equal({ imported_count: 0, updated_count: 2, failed_count: 0, failed_imports: [] });
    expect(await count(t.workspaceId)).to.equal(before + 2);
    const two = await request(testApp())
      .get('/clients/')
      .query({ search: `two-${ref}` })
      .set(t.owner.auth)
      .expect(200);
    // The number was not in the second row: kept, and still decrypts for its row.
    expect(two.body.items[0]).to.include({ name: 'Two again', phone: '+14155552671' });
  });

  it('changes nothing for a file of only bad rows, and numbers JSON rows from 1', async () => {
    const before = await count(t.workspaceId);
    const res = await json([{ name: '' }, { email: 'x@example.com' }, 'nope', { name: 'No key' }]).expect(200);
    expect(res.body.imported_count + res.body.updated_count).to.equal(0);
    expect((res.body.failed_imports as { row: number }[]).map((f) => f.row)).to.deep.equal([1, 2, 3, 4]);
    expect(res.body.failed_imports[3].errors[0].field).to.equal('external_ref');
    expect(await count(t.workspaceId)).to.equal(before);
  });

  it('refuses fields a client does not have, such as id and workspace_id, row by row', async () => {
    const res = await json([
      {
        name: 'Sneaky',
        external_ref: unique('r'),
        id: '00000000-0000-4000-8000-000000000000',
        workspace_id: t.workspaceId,
      },
    ]).expect(200);
    expect((res.body.failed_imports[0].errors as { field: string }[]).map((e) => e.field)).to.deep.equal([
      'id',
      'workspace_id',
    ]);
  });

  it('refuses a later row with the key of an earlier one', async () => {
    const ref = unique('r');
    const res = await json([
      { name: 'A', external_ref: ref },
      { name: 'B', external_ref: ref },
    ]).expect(200);
    expect(res.body).to.deep.include({ imported_count: 1, failed_count: 1 });
    expect(res.body.failed_imports[0]).to.deep.equal({
      row: 2,
      errors: [{ field: 'external_ref', msg: '"external_ref" is the same as in row 1' }],
    });
  });

  it('answers the counts of a real import for dry_run=true and creates nothing', async () => {
    const ref = unique('r');
    const before = await count(t.workspaceId);
    const res = await csv(`name,external_ref\nDry,${ref}\nBad,\n`, { dry_run: true }).expect(200);
    expect(res.body).to.deep.include({ imported_count: 1, updated_count: 0, failed_count: 1 });
    expect(await count(t.workspaceId)).to.equal(before);
  });

  it('answers 422 for more than 10,000 rows, an unknown CSV column, or a header without name', async () => {
    const rows = Array.from({ length: 10_001 }, (_, i) => ({ name: `n${i}`, external_ref: `x${i}` }));
    const many = await json(rows).expect(422);
    expect(many.body.detail[0].loc).to.deep.equal(['body']);
    const text = ['name,external_ref', ...rows.map((r) => `${r.name},${r.external_ref}`)].join('\n');
    await csv(text).expect(422);
    const unknown = await csv('name,password\nA,x\n').expect(422);
    expect(unknown.body.detail[0].loc).to.deep.equal(['body', 'password']);
    await csv('email\na@example.com\n').expect(422);
  });

  it('checks and writes a file of several slices, numbering failures across them, and updates it on a second import', async function () {
    this.timeout(60_000);
    const ref = unique('r');
    const lines = Array.from(
      { length: 2500 },
      (_, i) => `Many ${i},many${i}-${ref}@example.com,+44 7911 1${String(i).padStart(5, '0')},${ref}-${i}`,
    );
    lines[1499] = `Bad,bad-${ref}@example.com,+44 1,${ref}-bad`; // CSV row 1501, in the second slice
    lines[2299] = `Again,again-${ref}@example.com,,${ref}-3`; // row 2301: the key of row 5
    const text = ['name,email,phone,external_ref', ...lines].join('\n');
    const before = await count(t.workspaceId);
    const dry = await csv(text, { dry_run: true }).expect(200);
    expect(dry.body).to.deep.include({ imported_count: 2498, updated_count: 0, failed_count: 2 });
    expect(await count(t.workspaceId)).to.equal(before);
    const first = await csv(text).expect(200);
    expect(first.body).to.deep.equal({
      imported_count: 2498,
      updated_count: 0,
      failed_count: 2,
      failed_imports: [
        { row: 1501, errors: [{ field: 'phone', msg: '"phone" is not a valid phone number' }] },
        { row: 2301, errors: [{ field: 'external_ref', msg: '"external_ref" is the same as in row 5' }] },
      ],
    });
    expect(await count(t.workspaceId)).to.equal(before + 2498);
    const second = await csv(text).expect(200);
    expect(second.body).to.deep.include({ imported_count: 0, updated_count: 2498, failed_count: 2 });
    const last = await request(testApp())
      .get('/clients/')
      .query({ search: `many2499-${ref}` })
      .set(t.owner.auth)
      .expect(200);
    expect(last.body.items[0]).to.include({ name: 'Many 2499', phone: '+447911102499' });
  });

  it('answers 403 to a member and 415 to another body type', async () => {
    await json([{ name: 'A', external_ref: unique('r') }], t.member).expect(403);
    await request(testApp())
      .post('/clients/import')
      .set(t.owner.auth)
      .set('Content-Type', 'text/plain')
      .send('name\nA')
      .expect(415);
  });
});
