// The one-click unsubscribe link of reminder mail (RFC 8058), against the real database.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { unsubscribeToken } from '@nudge/crypto';
import { getDb, insertClient, type NotificationRow } from '@nudge/db';
import { clientFields } from '@nudge/testing';
import { testApp } from '../helpers';

describe('/unsubscribe/{token}', () => {
  const db = getDb();
  const app = testApp();
  let ws: string;
  before(async () => {
    [{ id: ws }] = (await db('workspaces')
      .insert({ name: `unsub-${randomUUID()}` })
      .returning('id')) as [{ id: string }];
  });
  after(async () => db('workspaces').where({ id: ws }).delete());

  const client = () => insertClient(db, ws, clientFields({ name: 'Una', email: `una-${randomUUID()}@example.com` }));
  const optedOut = async (id: string) =>
    ((await db('clients').where({ id }).first()) as { opt_out_email: boolean }).opt_out_email;

  describe('GET /unsubscribe/{token}', () => {
    it('shows a confirmation page with a button posting to the same URL, and opts nobody out', async () => {
      const c = await client();
      const path = `/unsubscribe/${unsubscribeToken(c.id)}`;
      const res = await request(app).get(path).expect(200);
      expect(res.headers['content-type']).to.match(/^text\/html/);
      expect(res.text).to.contain(`<form method="post" action="${path}">`);
      expect(await optedOut(c.id)).to.equal(false);
    });

    it('answers 404 for a token Nudge did not sign', async () => {
      const c = await client();
      await request(app).get(`/unsubscribe/${c.id}.forged`).expect(404);
      await request(app).get('/unsubscribe/nonsense').expect(404);
    });
  });

  describe('POST /unsubscribe/{token}', () => {
    it('opts the client out of email on the one-click post, cancels queued mail, audits once', async () => {
      const c = await client();
      const [queued] = await db<NotificationRow>('notifications')
        .insert({
          workspace_id: ws,
          kind: 'reminder',
          channel: 'email',
          status: 'queued',
          client_id: c.id,
          dedupe_key: `unsub:${randomUUID()}`,
        })
        .returning('*');
      const path = `/unsubscribe/${unsubscribeToken(c.id)}`;
      const res = await request(app).post(path).type('form').send('List-Unsubscribe=One-Click').expect(200);
      expect(res.text).to.contain('You are unsubscribed');
      expect(await optedOut(c.id)).to.equal(true);
      expect(((await db('notifications').where({ id: queued!.id }).first()) as NotificationRow).status).to.equal(
        'cancelled',
      );
      await request(app).post(path).type('form').send('List-Unsubscribe=One-Click').expect(200);
      expect(await db('audit_log').where({ target_id: c.id, action: 'client.opt_out' })).to.have.length(1);
    });

    it('answers 404 for a forged token, opting nobody out', async () => {
      const c = await client();
      const token = unsubscribeToken(c.id, 'another-secret-of-at-least-thirty-two-chars');
      await request(app).post(`/unsubscribe/${token}`).type('form').send('List-Unsubscribe=One-Click').expect(404);
      expect(await optedOut(c.id)).to.equal(false);
    });
  });
});
