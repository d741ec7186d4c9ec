import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import {
  ALL_WORKSPACES,
  type ClientImportRow,
  clientImportKey,
  findActiveChannelAccount,
  findClient,
  findClientsByPhoneHash,
  getDb,
  importClients,
  insertChannelAccount,
  insertClient,
  startClientImport,
} from '@nudge/db';
import { clientFields } from '@nudge/testing';

describe('the clients and channel-accounts repositories', () => {
  const db = getDb();
  let a: string;
  let b: string;
  before(async () => {
    [{ id: a }, { id: b }] = (await db('workspaces')
      .insert([{ name: `repo-a-${randomUUID()}` }, { name: `repo-b-${randomUUID()}` }])
      .returning('id')) as [{ id: string }, { id: string }];
  });
  after(async () => db('workspaces').whereIn('id', [a, b]).delete());

  const client = (workspaceId: string, phone: string | null, whatsapp: string | null) =>
    insertClient(db, workspaceId, clientFields({ name: 'C', phone, whatsapp }));

  describe('findClientsByPhoneHash', () => {
    it('finds the clients with a number on the channel asked, by its keyed hash, within the scope', async () => {
      const number = `+4479111${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}`;
      const smsA = await client(a, number, null);
      const waB = await client(b, '+14155552671', number);
      const smsB = await client(b, number, null);
      expect((await findClientsByPhoneHash(db, a, 'sms', number)).map((c) => c.id)).to.deep.equal([smsA.id]);
      expect((await findClientsByPhoneHash(db, b, 'whatsapp', number)).map((c) => c.id)).to.deep.equal([waB.id]);
      const everywhere = await findClientsByPhoneHash(db, ALL_WORKSPACES, 'sms', number);
      expect(everywhere.map((c) => c.id).sort()).to.deep.equal([smsA.id, smsB.id].sort());
      expect(everywhere[0]?.phone).to.equal(number);
      expect(await findClientsByPhoneHash(db, null, 'sms', number)).to.deep.equal([]);
    });
  });

  describe('findActiveChannelAccount', () => {
    it("answers the workspace's active account for a channel with its credentials decrypted, and nothing else", async () => {
      await insertChannelAccount(
        db,
        a,
        { channel: 'sms', provider: 'twilio', is_active: false },
        { auth_token: 'old' },
      );
      const active = await insertChannelAccount(
        db,
        a,
        { channel: 'sms', provider: 'twilio', account_sid: 'AC1', sms_from: '+14155550100' },
        { auth_token: 'tok' },
      );
      const found = await findActiveChannelAccount(db, a, 'sms');
      expect(found).to.include({ id: active.id, account_sid: 'AC1', sms_from: '+14155550100' });
      expect(found?.credentials).to.deep.equal({ auth_token: 'tok' });
      expect(await findActiveChannelAccount(db, a, 'whatsapp')).to.equal(undefined);
      expect(await findActiveChannelAccount(db, b, 'sms')).to.equal(undefined);
    });
  });

  describe('startClientImport', () => {
    const rowsOf = (tag: string, n: number): ClientImportRow[] =>
      Array.from({ length: n }, (_, i) => ({
        name: `Imported ${i}`,
        external_ref: `${tag}-${i}`,
        phone: `+4479111${String(i).padStart(5, '0')}`,
        whatsapp: `+4479111${String(i).padStart(5, '0')}`,
      }));

    it('writes rows handed over in slices across several statements, matching a key it was not told to expect', async () => {
      const tag = randomUUID();
      const existing = await client(a, null, null);
      await db('clients')
        .where({ id: existing.id })
        .update({ external_ref: `${tag}-7` });
      const rows = rowsOf(tag, 2500);
      const result = await db.transaction(async (trx) => {
        // No expected keys: row 7's client is found when its slice is written, and updated rather than duplicated.
        const importer = startClientImport(trx, a, [], { timezone: 'Europe/London' });
        for (let i = 0; i < rows.length; i += 700) await importer.write(rows.slice(i, i + 700));
        return importer.finish();
      });
      expect(result).to.deep.equal({ inserted: 2499, updated: 1 });
      const written = await db('clients').where({ workspace_id: a }).whereLike('external_ref', `${tag}-%`);
      expect(written).to.have.length(2500);
      const updated = await findClient(db, a, existing.id);
      expect(updated).to.include({ name: 'Imported 7', phone: '+447911100007', whatsapp: '+447911100007' });
      const last = written.find((r: { external_ref: string }) => r.external_ref === `${tag}-2499`) as { id: string };
      expect(await findClient(db, a, last.id)).to.include({ phone: '+447911102499', timezone: 'Europe/London' });
    });

    it('streams new rows written in many small slices into COPYs, and updates the matched rows among them', async () => {
      const tag = randomUUID();
      const rows = rowsOf(tag, 6000);
      // Every fifth row already exists, under another name: 1,200 updates, so that an upsert statement goes out
      // between the COPYs.
      const earlier = rows.filter((_, i) => i % 5 === 0).map((r) => ({ ...r, name: 'Earlier' }));
      await db.transaction((trx) => importClients(trx, a, earlier, { timezone: 'UTC' }));
      const before: { id: string; external_ref: string }[] = await db('clients')
        .where({ workspace_id: a })
        .whereLike('external_ref', `${tag}-%`)
        .select('id', 'external_ref');
      const result = await db.transaction(async (trx) => {
        const keys = rows.map((r) => clientImportKey(r) as string);
        const importer = startClientImport(trx, a, keys, { timezone: 'UTC' });
        for (let i = 0; i < rows.length; i += 250) await importer.write(rows.slice(i, i + 250));
        return importer.finish();
      });
      expect(result).to.deep.equal({ inserted: 4800, updated: 1200 });
      const written: { id: string; external_ref: string }[] = await db('clients')
        .where({ workspace_id: a })
        .whereLike('external_ref', `${tag}-%`)
        .select('id', 'external_ref');
      expect(written).to.have.length(6000);
      const byRef = new Map(written.map((r) => [r.external_ref, r.id]));
      for (const r of before) expect(byRef.get(r.external_ref)).to.equal(r.id);
      for (const i of [0, 1, 2499, 2500, 4000, 4001, 5999])
        expect(await findClient(db, a, byRef.get(`${tag}-${i}`) as string)).to.include({
          name: `Imported ${i}`,
          phone: `+4479111${String(i).padStart(5, '0')}`,
        });
    });

    it('stores text with tabs, line breaks, backslashes and a literal \\N as given, in new rows and updated ones', async () => {
      const tag = randomUUID();
      const awkward = 'a\tb\nc\r\nd \\ e \\N f \\. g\\';
      const rows = (n: string): ClientImportRow[] => [
        { name: `Tab\there ${n}`, external_ref: `${tag}-1`, notes: awkward, locale: null },
        { name: `\\N`, external_ref: `${tag}-2`, notes: `${awkward}\n${n}` },
      ];
      const importRows = (rs: ClientImportRow[]) =>
        db.transaction((trx) => importClients(trx, a, rs, { timezone: 'UTC' }));
      expect(await importRows(rows('new'))).to.deep.equal({ inserted: 2, updated: 0 });
      const read = () =>
        db('clients')
          .where({ workspace_id: a })
          .whereLike('external_ref', `${tag}-%`)
          .orderBy('external_ref')
          .select('name', 'notes', 'locale');
      expect(await read()).to.deep.equal([
        { name: 'Tab\there new', notes: awkward, locale: null },
        { name: '\\N', notes: `${awkward}\nnew`, locale: null },
      ]);
      expect(await importRows(rows('again'))).to.deep.equal({ inserted: 0, updated: 2 });
      expect(await read()).to.deep.equal([
        { name: 'Tab\there again', notes: awkward, locale: null },
        { name: '\\N', notes: `${awkward}\nagain`, locale: null },
      ]);
    });

    it('answers the error of a row refused in a COPY that later slices were still streaming into', async () => {
      const tag = randomUUID();
      const rows = rowsOf(tag, 2000);
      rows[100] = { ...rows[100], name: 'Bad', preferred_channel: 'pigeon' as 'sms' };
      const failed = await db
        .transaction(async (trx) => {
          const keys = rows.map((r) => clientImportKey(r) as string);
          const importer = startClientImport(trx, a, keys, { timezone: 'UTC' });
          for (let i = 0; i < rows.length; i += 250) {
            await importer.write(rows.slice(i, i + 250)).catch(() => undefined);
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
          await importer.finish();
        })
        .catch((err: unknown) => err);
      expect((failed as { message: string }).message).to.match(/clients_preferred_channel_check/);
      expect(await db('clients').where({ workspace_id: a }).whereLike('external_ref', `${tag}%`)).to.deep.equal([]);
    });

    it('lets a transaction given up between slices roll back at once, its open COPY cancelled', async () => {
      const tag = randomUUID();
      const rows = rowsOf(tag, 1000);
      const gaveUp = new Error('the caller failed between slices');
      const failed = await db
        .transaction(async (trx) => {
          const importer = startClientImport(
            trx,
            a,
            rows.map((r) => clientImportKey(r) as string),
            { timezone: 'UTC' },
          );
          for (let i = 0; i < 500; i += 250) {
            await importer.write(rows.slice(i, i + 250));
            await new Promise((resolve) => setTimeout(resolve, 20));
          }
          importer.abort();
          throw gaveUp;
        })
        .catch((err: unknown) => err);
      expect(failed).to.equal(gaveUp);
      expect(await db('clients').where({ workspace_id: a }).whereLike('external_ref', `${tag}%`)).to.deep.equal([]);
    });

    it("answers the first failing statement's error and leaves nothing of the import once its transaction ends", async () => {
      const tag = randomUUID();
      const rows = rowsOf(tag, 1500);
      // Refused by the table's check, in the second COPY (the second slice's unexpected keys are looked up between
      // the two): the first has run by then.
      rows[1200] = { ...rows[1200], name: 'Bad', preferred_channel: 'pigeon' as 'sms' };
      let writeAfter: unknown;
      const failed = await db
        .transaction(async (trx) => {
          const importer = startClientImport(trx, a, [], { timezone: 'UTC' });
          await importer.write(rows.slice(0, 1000));
          await importer.write(rows.slice(1000));
          await importer.finish().catch(async (err: unknown) => {
            writeAfter = await importer.write(rowsOf(`${tag}-more`, 1)).catch((e: unknown) => e);
            throw err;
          });
        })
        .catch((err: unknown) => err);
      expect((failed as { message: string }).message).to.match(/clients_preferred_channel_check/);
      expect(writeAfter).to.equal(failed);
      expect(await db('clients').where({ workspace_id: a }).whereLike('external_ref', `${tag}%`)).to.deep.equal([]);
    });
  });
});
