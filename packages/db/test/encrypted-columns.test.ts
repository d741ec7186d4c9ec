import { expect } from 'chai';
import { randomBytes, randomUUID } from 'node:crypto';
import { DecryptionError, getFieldCipher } from '@nudge/crypto';
import { getWorkspaceSlackWebhook, setWorkspaceSlackWebhook } from '@nudge/db';
import { createPrivateDatabase, type PrivateDatabase } from '@nudge/testing';

const MIGRATION = '20261122000400_encrypt_slack_webhooks.ts';
const at = (rowId: string) => ({ table: 'workspaces', column: 'slack_webhook', rowId });

describe('workspaces.slack_webhook at rest', () => {
  let pdb: PrivateDatabase;
  const tag = randomBytes(4).toString('hex');
  before(async function () {
    this.timeout(60_000);
    pdb = await createPrivateDatabase('nudge_encrypted');
  });
  after(async () => pdb.drop());

  async function workspace(label: string, slackWebhook: string | null = null): Promise<string> {
    const id = randomUUID();
    await pdb.db('workspaces').insert({ id, name: `encrypted ${tag} ${label}`, slack_webhook: slackWebhook });
    return id;
  }
  async function stored(id: string): Promise<string | null> {
    const row = await pdb
      .db<{ id: string; slack_webhook: string | null }>('workspaces')
      .where({ id })
      .first('slack_webhook');
    return row?.slack_webhook ?? null;
  }

  describe('the workspaces repository', () => {
    it('stores the webhook encrypted under the active key and reads it back in plaintext', async () => {
      const id = await workspace('repo');
      const url = 'https://hooks.slack.com/services/T1/B1/repo';
      await setWorkspaceSlackWebhook(pdb.db, id, url);
      const raw = await stored(id);
      expect(raw).to.match(new RegExp(`^${getFieldCipher().activeKey}:`));
      expect(raw).to.not.include('hooks.slack.com');
      expect(await getWorkspaceSlackWebhook(pdb.db, id)).to.equal(url);
      await setWorkspaceSlackWebhook(pdb.db, id, null);
      expect(await stored(id)).to.equal(null);
      expect(await getWorkspaceSlackWebhook(pdb.db, id)).to.equal(null);
    });

    it('refuses a webhook ciphertext copied from another workspace', async () => {
      const a = await workspace('swap a');
      const b = await workspace('swap b');
      await setWorkspaceSlackWebhook(pdb.db, a, 'https://hooks.slack.com/services/T1/B1/a');
      await pdb
        .db('workspaces')
        .where({ id: b })
        .update({ slack_webhook: await stored(a) });
      let caught: unknown;
      try {
        await getWorkspaceSlackWebhook(pdb.db, b);
      } catch (err) {
        caught = err;
      } finally {
        // The forged row would (rightly) make the migration's rollback below refuse to run.
        await setWorkspaceSlackWebhook(pdb.db, b, null);
      }
      expect(caught).to.be.instanceOf(DecryptionError);
    });
  });

  describe(`migration ${MIGRATION}`, () => {
    it('encrypts the webhooks stored in plaintext before it, leaves encrypted ones alone, and decrypts them on the way down', async () => {
      await pdb.db.migrate.down({ name: MIGRATION });
      const plain = 'https://hooks.slack.com/services/T1/B1/legacy';
      const legacy = await workspace('legacy', plain);
      const none = await workspace('none');
      const already = await workspace('already');
      await setWorkspaceSlackWebhook(pdb.db, already, 'https://hooks.slack.com/services/T1/B1/already');
      const alreadyStored = await stored(already);

      await pdb.db.migrate.up({ name: MIGRATION });
      const encrypted = await stored(legacy);
      expect(encrypted).to.match(new RegExp(`^${getFieldCipher().activeKey}:`));
      expect(getFieldCipher().decrypt(encrypted ?? '', at(legacy))).to.equal(plain);
      expect(await getWorkspaceSlackWebhook(pdb.db, legacy)).to.equal(plain);
      expect(await stored(none)).to.equal(null);
      expect(await stored(already)).to.equal(alreadyStored);

      await pdb.db.migrate.down({ name: MIGRATION });
      expect(await stored(legacy)).to.equal(plain);
      expect(await stored(already)).to.equal('https://hooks.slack.com/services/T1/B1/already');
      await pdb.db.migrate.up({ name: MIGRATION });
      expect(await getWorkspaceSlackWebhook(pdb.db, already)).to.equal(
        'https://hooks.slack.com/services/T1/B1/already',
      );
    });
  });
});
