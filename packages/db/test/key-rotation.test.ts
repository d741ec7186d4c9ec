import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { DecryptionError, FieldCipher } from '@nudge/crypto';
import { rotateKeys, type RotationBatch } from '../src/key-rotation';
import { spawnTs } from '@nudge/testing';
import { createPrivateDatabase, type PrivateDatabase } from '@nudge/testing';

const k1 = randomBytes(32);
const k2 = randomBytes(32);
const v1Only = new FieldCipher(new Map([['v1', k1]]), 'v1');
const v2Active = new FieldCipher(
  new Map([
    ['v1', k1],
    ['v2', k2],
  ]),
  'v2',
);
const v2Only = new FieldCipher(new Map([['v2', k2]]), 'v2');
const at = (rowId: string) => ({ table: 'workspaces', column: 'slack_webhook', rowId });

describe('key rotation', () => {
  let pdb: PrivateDatabase;
  const tag = randomBytes(4).toString('hex');

  before(async function () {
    this.timeout(60_000);
    pdb = await createPrivateDatabase('nudge_rotation');
  });
  after(async () => pdb.drop());

  /** Workspaces whose webhooks are encrypted under v1; returns id → plaintext URL. */
  async function seed(count: number, label: string): Promise<Map<string, string>> {
    const urls = new Map<string, string>();
    const rows = Array.from({ length: count }, (_, i) => {
      const id = randomUUID();
      const url = `https://hooks.slack.com/services/T${tag}/B${label}${i}/secret${i}`;
      urls.set(id, url);
      return { id, name: `rotation ${tag} ${label} ${i}`, slack_webhook: v1Only.encrypt(url, at(id)) };
    });
    await pdb.db('workspaces').insert(rows);
    return urls;
  }

  async function versions(ids: Iterable<string>): Promise<string[]> {
    const rows = await pdb
      .db<{ id: string; slack_webhook: string }>('workspaces')
      .whereIn('id', [...ids])
      .select('slack_webhook');
    return rows.map((r) => r.slack_webhook.split(':')[0] ?? '');
  }

  describe('rotateKeys', () => {
    it('stops after one batch, finishes on a rerun, and finds nothing to do on a third run', async () => {
      const urls = await seed(25, 'api');
      const batches: RotationBatch[] = [];

      const first = await rotateKeys({
        db: pdb.db,
        cipher: v2Active,
        batchSize: 10,
        maxBatches: 1,
        onBatch: (b) => batches.push(b),
      });
      expect(first).to.include({ rows: 10, done: false });
      expect(batches).to.deep.equal([{ table: 'workspaces', column: 'slack_webhook', rows: 10, totalRows: 10 }]);
      expect((await versions(urls.keys())).filter((v) => v === 'v2')).to.have.length(10);

      const second = await rotateKeys({ db: pdb.db, cipher: v2Active, batchSize: 10 });
      expect(second).to.include({ rows: 15, done: true });
      expect(second.rowsPerSecond).to.be.a('number').and.greaterThan(0);
      expect(await versions(urls.keys())).to.deep.equal(Array(25).fill('v2'));
      // Every value now decrypts without the old key, to the URL it held, still bound to its own row.
      for (const [id, url] of urls) {
        const row = await pdb
          .db<{ id: string; slack_webhook: string }>('workspaces')
          .where({ id })
          .first('slack_webhook');
        expect(v2Only.decrypt(row?.slack_webhook ?? '', at(id))).to.equal(url);
      }

      const third = await rotateKeys({ db: pdb.db, cipher: v2Active, batchSize: 10 });
      expect(third).to.deep.equal({ rows: 0, rowsPerSecond: 0, done: true });
    });

    it("re-encrypts clients' phone and WhatsApp numbers and channel accounts' credentials, each still bound to its row", async () => {
      const [{ id: ws }] = (await pdb
        .db('workspaces')
        .insert({ name: `rotation ${tag} columns` })
        .returning('id')) as [{ id: string }];
      const clientId = randomUUID();
      const accountId = randomUUID();
      const ctx = (table: string, column: string, rowId: string) => ({ table, column, rowId });
      await pdb.db('clients').insert({
        id: clientId,
        workspace_id: ws,
        name: 'Rotated',
        timezone: 'UTC',
        phone: v1Only.encrypt('+447911123789', ctx('clients', 'phone', clientId)),
        whatsapp: v1Only.encrypt('+14155552671', ctx('clients', 'whatsapp', clientId)),
      });
      await pdb.db('channel_accounts').insert({
        id: accountId,
        workspace_id: ws,
        channel: 'email',
        provider: 'sendgrid',
        credentials: v1Only.encrypt('{"api_key":"SG.a.b"}', ctx('channel_accounts', 'credentials', accountId)),
      });
      const batches: RotationBatch[] = [];
      await rotateKeys({ db: pdb.db, cipher: v2Active, batchSize: 10, onBatch: (b) => batches.push(b) });
      expect(batches.filter((b) => b.rows > 0).map((b) => `${b.table}.${b.column}`)).to.include.members([
        'clients.phone',
        'clients.whatsapp',
        'channel_accounts.credentials',
      ]);
      const client = (await pdb.db('clients').where({ id: clientId }).first()) as { phone: string; whatsapp: string };
      const account = (await pdb.db('channel_accounts').where({ id: accountId }).first()) as { credentials: string };
      expect(v2Only.decrypt(client.phone, ctx('clients', 'phone', clientId))).to.equal('+447911123789');
      expect(v2Only.decrypt(client.whatsapp, ctx('clients', 'whatsapp', clientId))).to.equal('+14155552671');
      expect(v2Only.decrypt(account.credentials, ctx('channel_accounts', 'credentials', accountId))).to.equal(
        '{"api_key":"SG.a.b"}',
      );
    });

    it('reports done when the batch limit is reached with nothing left', async () => {
      const result = await rotateKeys({ db: pdb.db, cipher: v2Active, batchSize: 10, maxBatches: 1 });
      expect(result).to.include({ rows: 0, done: true });
    });

    it('refuses to rotate a value that does not decrypt, naming its row, and rolls its batch back', async () => {
      const urls = await seed(3, 'bad');
      const [badId] = urls.keys();
      const forged = v1Only.encrypt('https://evil.example/hook', at(randomUUID()));
      await pdb.db('workspaces').where({ id: badId }).update({ slack_webhook: forged });
      try {
        let caught: unknown;
        try {
          await rotateKeys({ db: pdb.db, cipher: v2Active, batchSize: 10 });
        } catch (err) {
          caught = err;
        }
        expect(caught).to.be.instanceOf(DecryptionError);
        expect((caught as Error).message).to.include(`workspaces.slack_webhook:${badId}`);
        expect(await versions(urls.keys())).to.deep.equal(['v1', 'v1', 'v1']);
      } finally {
        await pdb
          .db('workspaces')
          .whereIn('id', [...urls.keys()])
          .delete();
      }
    });
  });

  describe('npm run keys:rotate', () => {
    // The summary is the CLI's last line on stdout; stderr (merged by spawnTs) may interleave anywhere.
    const summary = (output: string): { rows: number; rows_per_second: number; done: boolean } =>
      JSON.parse(
        output
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .at(-1) ?? '',
      ) as { rows: number; rows_per_second: number; done: boolean };

    function runCli(env: Record<string, string>, args: string[]): Promise<{ code: number | null; output: string }> {
      const proc = spawnTs(
        'packages/db/src/cli/rotate-keys.ts',
        { ...process.env, DATABASE_URL: pdb.url, ...env },
        args,
      );
      return proc.exited.then((code) => ({ code, output: proc.output() }));
    }

    it('rotates one batch with --max-batches 1 and prints its JSON summary last, then finishes on a rerun', async function () {
      this.timeout(60_000);
      const urls = await seed(6, 'cli');
      const env = {
        ENCRYPTION_KEYS: `v1:${k1.toString('base64')},v2:${k2.toString('base64')}`,
        ENCRYPTION_ACTIVE_KEY: 'v2',
        KEY_ROTATION_BATCH_SIZE: '4',
      };

      const first = await runCli(env, ['--max-batches', '1']);
      expect(first.code, first.output).to.equal(0);
      const firstSummary = summary(first.output);
      expect(firstSummary).to.include({ rows: 4, done: false });
      expect(firstSummary.rows_per_second).to.be.a('number');
      expect((await versions(urls.keys())).filter((v) => v === 'v2')).to.have.length(4);

      const second = await runCli(env, []);
      expect(second.code, second.output).to.equal(0);
      expect(summary(second.output)).to.include({ rows: 2, done: true });
      expect(await versions(urls.keys())).to.deep.equal(Array(6).fill('v2'));
    });
  });
});
