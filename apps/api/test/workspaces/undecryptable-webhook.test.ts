// A webhook ciphertext that no longer decrypts (a key retired too early, a restored backup) must not brick its
// workspace: reads show the hint stored at save time and never decrypt, and the owner can overwrite or clear it.
import { expect } from 'chai';
import request from 'supertest';
import { getDb } from '@nudge/db';
import { superuser, team, testApp } from '../helpers';

const WEBHOOK = 'https://hooks.slack.com/services/T000/B000/abcdefghWXYZ';
const MASKED = 'https://hooks.slack.com/services/****WXYZ';

/** What a retired key leaves behind: a well-formed ciphertext under a version no key reads. */
async function corruptWebhook(workspaceId: string): Promise<void> {
  await getDb()('workspaces')
    .where({ id: workspaceId })
    .update({ slack_webhook: 'v99:AAAAAAAAAAAAAAAA:BBBBBBBBBBBBBBBBBBBBBB:CCCC' });
}

/** A team whose saved webhook's ciphertext has since become unreadable. */
async function teamWithUnreadableWebhook() {
  const app = testApp();
  const t = await team(app);
  await request(app)
    .patch(`/workspaces/${t.workspaceId}`)
    .set(t.owner.auth)
    .send({ slack_webhook: WEBHOOK })
    .expect(200);
  await corruptWebhook(t.workspaceId);
  return { app, t };
}

describe('a workspace whose Slack webhook no longer decrypts', () => {
  it('still answers GET, the listing, PATCH and invites, showing the stored hint', async () => {
    const { app, t } = await teamWithUnreadableWebhook();
    const one = await request(app).get(`/workspaces/${t.workspaceId}`).set(t.owner.auth).expect(200);
    expect(one.body.slack_webhook).to.equal(MASKED);
    const root = await superuser(app);
    const all = await request(app).get('/workspaces/').set(root.auth).expect(200);
    expect(
      (all.body as { id: string; slack_webhook: string }[]).find((w) => w.id === t.workspaceId)?.slack_webhook,
    ).to.equal(MASKED);
    await request(app)
      .patch(`/workspaces/${t.workspaceId}`)
      .set(t.owner.auth)
      .send({ timezone: 'Europe/Paris' })
      .expect(200);
    await request(app)
      .post(`/workspaces/${t.workspaceId}/invites`)
      .set(t.owner.auth)
      .send({ role: 'member' })
      .expect(201);
  });

  it('shows slack_status "undecryptable" when so flagged, and can be overwritten or cleared', async () => {
    const { app, t } = await teamWithUnreadableWebhook();
    await getDb()('workspaces').where({ id: t.workspaceId }).update({ slack_status: 'undecryptable' });
    const flagged = await request(app).get(`/workspaces/${t.workspaceId}`).set(t.owner.auth).expect(200);
    expect(flagged.body.slack_status).to.equal('undecryptable');
    const other = 'https://hooks.slack.com/services/T111/B111/zyxwvutsABCD';
    const saved = await request(app)
      .patch(`/workspaces/${t.workspaceId}`)
      .set(t.owner.auth)
      .send({ slack_webhook: other })
      .expect(200);
    expect(saved.body).to.include({ slack_webhook: 'https://hooks.slack.com/services/****ABCD', slack_status: 'ok' });
    await corruptWebhook(t.workspaceId);
    const cleared = await request(app)
      .patch(`/workspaces/${t.workspaceId}`)
      .set(t.owner.auth)
      .send({ slack_webhook: null })
      .expect(200);
    expect(cleared.body).to.include({ slack_webhook: null, slack_status: 'ok' });
  });

  it('can be deleted by its owner', async () => {
    const { app, t } = await teamWithUnreadableWebhook();
    await request(app).delete(`/workspaces/${t.workspaceId}`).set(t.owner.auth).expect(204);
  });
});
