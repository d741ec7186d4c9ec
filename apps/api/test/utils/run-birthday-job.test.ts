import { expect } from 'chai';
import request from 'supertest';
import { randomUUID } from 'node:crypto';
import { QUEUES, type ScanJob } from '@nudge/queue';
import { testApp, testDeps, signUp, superuser, team, unique } from '../helpers';

const app = () => testApp();

async function scanJobs(): Promise<ScanJob[]> {
  const jobs = await testDeps()
    .producers.queue(QUEUES.birthdayScan)
    .getJobs(['waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed']);
  return jobs.filter((j) => j !== undefined).map((j) => j.data);
}

const isFor = (workspaceId: string) => (d: ScanJob) => d.manual === true && d.workspaceId === workspaceId;
const isForAll = (d: ScanJob) => d.manual === true && d.workspaceId === undefined;

describe('POST /utils/run-birthday-job', () => {
  it('answers 202 and enqueues a manual scan of the named workspace', async () => {
    const root = await superuser(app());
    const owner = await signUp(app(), { workspace_name: unique('ws') });
    const ws = owner.user.workspace_id as string;
    const res = await request(app()).post(`/utils/run-birthday-job?workspace_id=${ws}`).set(root.auth).expect(202);
    expect(res.body).to.deep.equal({ detail: 'Birthday job triggered' });
    const mine = (await scanJobs()).filter(isFor(ws));
    expect(mine).to.have.length(1);
    expect(mine[0]).to.deep.equal({ manual: true, workspaceId: ws });
  });

  it('enqueues one manual scan of every workspace without workspace_id', async () => {
    const root = await superuser(app());
    const before = (await scanJobs()).filter(isForAll).length;
    const res = await request(app()).post('/utils/run-birthday-job').set(root.auth).expect(202);
    expect(res.body).to.deep.equal({ detail: 'Birthday job triggered' });
    expect((await scanJobs()).filter(isForAll)).to.have.length(before + 1);
  });

  it('answers 404 for an unknown workspace and enqueues nothing', async () => {
    const root = await superuser(app());
    const ws = randomUUID();
    await request(app()).post(`/utils/run-birthday-job?workspace_id=${ws}`).set(root.auth).expect(404);
    expect((await scanJobs()).filter(isFor(ws))).to.deep.equal([]);
  });

  it('answers 422 for a malformed workspace_id', async () => {
    const root = await superuser(app());
    const res = await request(app()).post('/utils/run-birthday-job?workspace_id=nope').set(root.auth).expect(422);
    expect(res.body.detail[0].loc).to.deep.equal(['query', 'workspace_id']);
  });

  it("answers 403 to a workspace's owner and 401 without a token, and enqueues nothing", async () => {
    const t = await team(app());
    await request(app()).post(`/utils/run-birthday-job?workspace_id=${t.workspaceId}`).set(t.owner.auth).expect(403);
    await request(app()).post(`/utils/run-birthday-job?workspace_id=${t.workspaceId}`).expect(401);
    expect((await scanJobs()).filter(isFor(t.workspaceId))).to.deep.equal([]);
  });
});
