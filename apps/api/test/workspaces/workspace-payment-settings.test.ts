// A workspace's payment side (issue 12): its Stripe Connect account as GET shows it, and notify_on_payment, which its
// owners and admins may switch.
import { expect } from 'chai';
import request from 'supertest';
import { testApp, testDeps, team } from '../helpers';

const app = () => testApp();
const db = () => testDeps().db;

describe("a workspace's Stripe account and notify_on_payment", () => {
  it('shows stripe {account_id: null, charges_enabled: false} and notify_on_payment false by default', async () => {
    const t = await team(app());
    const one = await request(app()).get(`/workspaces/${t.workspaceId}`).set(t.member.auth).expect(200);
    expect(one.body.stripe).to.deep.equal({ account_id: null, charges_enabled: false });
    expect(one.body.notify_on_payment).to.equal(false);
    const list = await request(app()).get('/workspaces/').set(t.member.auth).expect(200);
    expect(list.body[0]).to.deep.include({
      stripe: { account_id: null, charges_enabled: false },
      notify_on_payment: false,
    });
  });

  it('shows the connected account and whether it may take charges', async () => {
    const t = await team(app());
    await db()('workspaces')
      .where({ id: t.workspaceId })
      .update({ stripe_account_id: `acct_test_${t.workspaceId.slice(0, 8)}`, stripe_charges_enabled: true });
    const res = await request(app()).get(`/workspaces/${t.workspaceId}`).set(t.member.auth).expect(200);
    expect(res.body.stripe).to.deep.equal({
      account_id: `acct_test_${t.workspaceId.slice(0, 8)}`,
      charges_enabled: true,
    });
  });

  it('lets an owner or admin switch notify_on_payment with PATCH, and the listing shows it', async () => {
    const t = await team(app());
    const on = await request(app())
      .patch(`/workspaces/${t.workspaceId}`)
      .set(t.admin.auth)
      .send({ notify_on_payment: true })
      .expect(200);
    expect(on.body.notify_on_payment).to.equal(true);
    expect((await db()('workspaces').where({ id: t.workspaceId }).first()).notify_on_payment).to.equal(true);
    const list = await request(app()).get('/workspaces/').set(t.member.auth).expect(200);
    expect(list.body[0].notify_on_payment).to.equal(true);
    const off = await request(app())
      .patch(`/workspaces/${t.workspaceId}`)
      .set(t.owner.auth)
      .send({ notify_on_payment: false })
      .expect(200);
    expect(off.body.notify_on_payment).to.equal(false);
  });

  it('answers 403 to a member, and 422 for a value that is no boolean or for the Stripe fields', async () => {
    const t = await team(app());
    await request(app())
      .patch(`/workspaces/${t.workspaceId}`)
      .set(t.member.auth)
      .send({ notify_on_payment: true })
      .expect(403);
    const bad = await request(app())
      .patch(`/workspaces/${t.workspaceId}`)
      .set(t.owner.auth)
      .send({ notify_on_payment: 'sometimes' })
      .expect(422);
    expect(bad.body.detail[0].loc).to.deep.equal(['body', 'notify_on_payment']);
    await request(app())
      .patch(`/workspaces/${t.workspaceId}`)
      .set(t.owner.auth)
      .send({ stripe: { account_id: 'acct_test_mine', charges_enabled: true } })
      .expect(422);
    expect((await db()('workspaces').where({ id: t.workspaceId }).first()).notify_on_payment).to.equal(false);
  });
});
