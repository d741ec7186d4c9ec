import { expect } from 'chai';
import {
  birthdayCandidatesQuery,
  claimBirthdayPost,
  findBirthdayCandidates,
  insertNotification,
  type Db,
} from '@nudge/db';
import { candidateBirthMds } from '@nudge/domain';
import { createPrivateDatabase, type PrivateDatabase } from '@nudge/testing';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function planNodes(node: PlanNode): PlanNode[] {
  return [node, ...(node.Plans ?? []).flatMap(planNodes)];
}

describe('birthday posts repository', () => {
  // A database of its own: the 100,000 rows and their statistics must not slow down or skew other suites.
  let pdb: PrivateDatabase;
  let db: Db;
  before(async function () {
    this.timeout(60_000);
    pdb = await createPrivateDatabase('nudge_bdposts');
    db = pdb.db;
  });
  after(() => pdb.drop());

  describe('the due-workspaces query', () => {
    it('reads birthdays through the birth_md index, never scanning birthdays or users, over 100,000 analysed rows', async function () {
      this.timeout(120_000);
      await db.raw(`INSERT INTO workspaces (name, timezone, slack_webhook)
                    SELECT 'explain-ws-' || g, 'America/New_York', 'https://hooks.slack.com/services/T/B/' || g FROM generate_series(1, 1000) g`);
      await db.raw(`WITH ws AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS n FROM workspaces)
                    INSERT INTO users (email, password_hash, name, date_of_birth, workspace_id, role)
                    SELECT 'user' || g || '@explain.example', 'x', 'User ' || g, date '1960-01-01' + (g * 37 % 20000), ws.id, 'member'
                    FROM generate_series(1, 100000) g JOIN ws ON ws.n = g % 1000`);
      await db.raw(`INSERT INTO birthdays (user_id, workspace_id, name, date_of_birth)
                    SELECT id, workspace_id, name, date_of_birth FROM users WHERE email LIKE '%@explain.example'`);
      await db.raw('ANALYZE workspaces');
      await db.raw('ANALYZE users');
      await db.raw('ANALYZE birthdays');
      const [{ count }] = (await db('birthdays').count({ count: '*' })) as [{ count: number }];
      expect(count).to.be.at.least(100_000);

      const mds = candidateBirthMds(new Date('2027-06-15T12:00:00Z'));
      const { sql, bindings } = birthdayCandidatesQuery(db, mds).toSQL();
      const { rows } = await db.raw<{ rows: { 'QUERY PLAN': [{ Plan: PlanNode }] }[] }>(
        `EXPLAIN (FORMAT JSON) ${sql}`,
        bindings,
      );
      const nodes = planNodes(rows[0]!['QUERY PLAN'][0].Plan);

      expect(
        nodes.some((n) => n['Index Name'] === 'birthdays_birth_md_workspace_idx'),
        JSON.stringify(nodes.map((n) => n['Node Type'])),
      ).to.equal(true);
      const seqScans = nodes.filter((n) => n['Node Type'] === 'Seq Scan').map((n) => n['Relation Name']);
      expect(seqScans).not.to.include('birthdays');
      expect(seqScans).not.to.include('users');

      // And it answers: a workspace per birthday-holder on those days, each with its month-days.
      const found = await findBirthdayCandidates(db, mds);
      expect(found.length).to.be.greaterThan(0);
      for (const c of found) expect(c.birth_mds.every((md) => mds.includes(md))).to.equal(true);
    });

    it('leaves out workspaces without a webhook or with a broken one', async () => {
      const [ok, none, broken] = await db('workspaces')
        .insert([
          { name: 'cand-ok', slack_webhook: 'https://hooks.slack.com/services/T/B/ok' },
          { name: 'cand-none' },
          { name: 'cand-broken', slack_webhook: 'https://hooks.slack.com/services/T/B/br', slack_status: 'broken' },
        ])
        .returning<{ id: string }[]>('id');
      await db('birthdays').insert(
        [ok, none, broken].map((w) => ({ workspace_id: w!.id, name: 'X', date_of_birth: '1990-12-25' })),
      );
      const ids = (await findBirthdayCandidates(db, [1225])).map((c) => c.workspace_id);
      expect(ids).to.include(ok!.id);
      expect(ids).not.to.include(none!.id);
      expect(ids).not.to.include(broken!.id);
    });
  });

  describe('the schema', () => {
    it('claims a workspace day once, and drops posts and notifications with their workspace', async () => {
      const [ws] = await db('workspaces').insert({ name: 'claim-once' }).returning<{ id: string }[]>('id');
      const wsId = ws!.id;
      const first = await claimBirthdayPost(db, wsId, {
        localDate: '2027-06-15',
        birthdayIds: [],
        claimedAt: new Date(),
      });
      const second = await claimBirthdayPost(db, wsId, {
        localDate: '2027-06-15',
        birthdayIds: [],
        claimedAt: new Date(),
      });
      expect(first?.status).to.equal('claimed');
      expect(second).to.equal(undefined);
      const n = await insertNotification(db, wsId, {
        kind: 'birthday',
        channel: 'slack',
        dedupe_key: `birthday:${wsId}:2027-06-15`,
        body: 'hi',
      });
      expect(n?.status).to.equal('queued');
      expect(
        await insertNotification(db, wsId, {
          kind: 'birthday',
          channel: 'slack',
          dedupe_key: `birthday:${wsId}:2027-06-15`,
          body: 'again',
        }),
      ).to.equal(undefined);

      await db('workspaces').where({ id: wsId }).delete();
      expect(await db('birthday_posts').where({ workspace_id: wsId })).to.have.length(0);
      expect(await db('notifications').where({ workspace_id: wsId })).to.have.length(0);
    });
  });
});
