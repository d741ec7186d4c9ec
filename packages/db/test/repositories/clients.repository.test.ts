import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import {
  ALL_WORKSPACES,
  findActiveChannelAccount,
  findClientsByPhoneHash,
  getDb,
  insertChannelAccount,
  insertClient,
} from '@nudge/db';

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
    insertClient(db, workspaceId, {
      name: 'C',
      email: null,
      phone,
      whatsapp,
      preferred_channel: null,
      timezone: 'UTC',
      locale: null,
      notes: null,
      external_ref: null,
      is_active: true,
      opt_out_email: false,
      opt_out_sms: false,
      opt_out_whatsapp: false,
    });

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
});
