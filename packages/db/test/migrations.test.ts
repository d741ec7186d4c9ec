import { expect } from 'chai';
import type { Db } from '@nudge/db';
import { createPrivateDatabase, type PrivateDatabase } from '@nudge/testing';

describe('packages/db migrations', () => {
  let priv: PrivateDatabase;
  let db: Db;
  before(async () => {
    priv = await createPrivateDatabase('nudge_mig');
    db = priv.db;
  });
  after(() => priv.drop());

  it('migrate up, all the way down, and up again', async function () {
    this.timeout(60_000);
    await db.migrate.latest();
    const [, pending] = (await db.migrate.list()) as [unknown[], unknown[]];
    expect(pending).to.have.length(0);
    await db.migrate.rollback(undefined, true);
    const { rows } = await db.raw<{ rows: { table_name: string }[] }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name NOT LIKE 'knex_%'",
    );
    expect(rows.map((r) => r.table_name)).to.deep.equal([]);
    await db.migrate.latest();
  });

  describe('the schema', () => {
    it('keeps emails unique regardless of case', async () => {
      await db('users').insert({ email: 'Case@Example.com', password_hash: 'x' });
      let code: string | undefined;
      try {
        await db('users').insert({ email: 'case@example.COM', password_hash: 'x' });
      } catch (err) {
        code = (err as { code?: string }).code;
      }
      expect(code).to.equal('23505');
    });

    it('derives birth_md from the date of birth', async () => {
      const [ws] = await db('workspaces').insert({ name: 'md' }).returning('id');
      const [b] = await db('birthdays')
        .insert({ workspace_id: (ws as { id: string }).id, name: 'A', date_of_birth: '2000-02-29' })
        .returning('birth_md');
      expect((b as { birth_md: number }).birth_md).to.equal(229);
    });

    it('removes birthdays with their workspace and detaches users from it', async () => {
      const [ws] = await db('workspaces').insert({ name: 'gone' }).returning('id');
      const wsId = (ws as { id: string }).id;
      const [u] = await db('users')
        .insert({ email: 'member@gone.example', password_hash: 'x', workspace_id: wsId, role: 'member' })
        .returning('id');
      await db('birthdays').insert({
        workspace_id: wsId,
        user_id: (u as { id: string }).id,
        name: 'M',
        date_of_birth: '1990-05-05',
      });
      await db('workspaces').where({ id: wsId }).delete();
      expect(await db('birthdays').where({ workspace_id: wsId })).to.have.length(0);
      const user = (await db('users')
        .where({ id: (u as { id: string }).id })
        .first()) as { workspace_id: string | null };
      expect(user.workspace_id).to.equal(null);
    });

    it('keeps audit entries when their workspace is deleted, with the workspace id set null', async () => {
      const [ws] = await db('workspaces').insert({ name: 'audited' }).returning('id');
      const wsId = (ws as { id: string }).id;
      const [row] = await db('audit_log').insert({ workspace_id: wsId, action: 'workspace_updated' }).returning('id');
      await db('workspaces').where({ id: wsId }).delete();
      expect(
        await db('audit_log')
          .where({ id: (row as { id: string }).id })
          .first('workspace_id'),
      ).to.deep.equal({ workspace_id: null });
    });

    it('keeps one live reset token per user', async () => {
      const [u] = await db('users').insert({ email: 'reset@live.example', password_hash: 'x' }).returning('id');
      const userId = (u as { id: string }).id;
      const expires_at = new Date(Date.now() + 3600_000);
      await db('password_reset_tokens').insert({ user_id: userId, token_hash: 'h1', expires_at, used_at: new Date() });
      await db('password_reset_tokens').insert({ user_id: userId, token_hash: 'h2', expires_at });
      const err = await db('password_reset_tokens')
        .insert({ user_id: userId, token_hash: 'h3', expires_at })
        .then(
          () => undefined,
          (e: unknown) => e as { code?: string },
        );
      expect(err?.code).to.equal('23505');
    });

    it('keeps notification history when a client or a reminder is deleted, and drops the assignments', async () => {
      const [ws] = await db('workspaces').insert({ name: 'history', currency: 'EUR' }).returning('id');
      const workspace_id = (ws as { id: string }).id;
      const [c] = await db('clients')
        .insert({ workspace_id, name: 'Client', timezone: 'Europe/London' })
        .returning('id');
      const client_id = (c as { id: string }).id;
      const [r] = await db('reminders')
        .insert({
          workspace_id,
          title: 'Pay',
          type: 'deadline',
          message_template: 'Hi',
          channels: ['email'],
          schedule: { kind: 'once' },
          schedule_kind: 'once',
        })
        .returning('id');
      const reminder_id = (r as { id: string }).id;
      await db('reminder_clients').insert({ reminder_id, client_id, workspace_id, next_run_at: new Date() });
      const [n] = await db('notifications')
        .insert({
          workspace_id,
          kind: 'reminder',
          channel: 'email',
          dedupe_key: `reminder:${reminder_id}:${client_id}:1`,
          reminder_id,
          client_id,
        })
        .returning('id');
      await db('clients').where({ id: client_id }).delete();
      expect(await db('reminder_clients').where({ reminder_id })).to.have.length(0);
      await db('reminders').where({ id: reminder_id }).delete();
      expect(
        await db('notifications')
          .where({ id: (n as { id: string }).id })
          .first('client_id', 'reminder_id'),
      ).to.deep.equal({ client_id: null, reminder_id: null });
    });

    it('stores currencies upper-case only', async () => {
      const err = await db('workspaces')
        .insert({ name: 'lower', currency: 'usd' })
        .then(
          () => undefined,
          (e: unknown) => e as { code?: string },
        );
      expect(err?.code, 'check_violation').to.equal('23514');
      const [ws] = await db('workspaces').insert({ name: 'default currency' }).returning('currency');
      expect(ws).to.deep.equal({ currency: 'USD' });
    });
  });
});
