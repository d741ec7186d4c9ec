// A birthday from the API to Slack, across processes: the API saves a workspace and a birthday and enqueues a manual
// run; the real `birthdays` process (spawned as the Procfile runs it) claims the day and posts once to the fake
// Slack. It runs on a database of its own, since the worker reads every workspace.
import { expect } from 'chai';
import request from 'supertest';
import { DateTime } from 'luxon';
import { hashPassword } from '@nudge/crypto';
import { insertUser } from '@nudge/db';
import { QUEUES } from '@nudge/queue';
import {
  createPrivateDatabase,
  spawnTs,
  startFakeSlack,
  waitFor,
  type FakeSlack,
  type PrivateDatabase,
  type Spawned,
} from '@nudge/testing';
import { createApp } from '../../apps/api/src/index';
import { testDeps, PASSWORD, unique } from '../../apps/api/test/helpers';

describe('a birthday post, end to end', () => {
  let priv: PrivateDatabase;
  let slack: FakeSlack;
  let worker: Spawned;
  let app: ReturnType<typeof createApp>;
  let auth: { Authorization: string };

  before(async function () {
    this.timeout(60_000);
    priv = await createPrivateDatabase('nudge_e2e_bday');
    slack = await startFakeSlack();
    app = createApp({ ...testDeps(), db: priv.db });
    const email = `${unique('root')}@example.com`;
    await insertUser(priv.db, { email, password_hash: await hashPassword(PASSWORD, 4), is_superuser: true });
    const login = await request(app).post('/auth/jwt/login').send({ username: email, password: PASSWORD }).expect(200);
    auth = { Authorization: `Bearer ${login.body.access_token}` };
    worker = spawnTs('apps/worker/src/processes/birthdays.ts', {
      ...process.env,
      DATABASE_URL: priv.url,
      LOG_LEVEL: 'info',
    });
    await waitFor(() => worker.output().includes('birthdays worker consuming'), {
      timeoutMs: 30_000,
      what: 'the birthdays process',
    });
  });

  after(async () => {
    worker.child.kill('SIGTERM');
    await worker.exited;
    await slack.close();
    await priv.drop();
  });

  it('posts one escaped message naming everyone, and a second run posts nothing', async function () {
    this.timeout(60_000);
    const hook = slack.webhookUrl();
    const ws = await request(app)
      .post('/workspaces/')
      .set(auth)
      .send({ name: unique('E2E'), timezone: 'Asia/Tokyo', slack_webhook: hook })
      .expect(201);
    const today = DateTime.now().setZone('Asia/Tokyo');
    const dob = today.set({ year: 1992 }).toISODate();
    for (const name of ['Zoë', 'Ada & <Bob>']) {
      await request(app)
        .post('/birthdays/')
        .set(auth)
        .send({ name, date_of_birth: dob, workspace_id: ws.body.id })
        .expect(201);
    }

    await request(app).post(`/utils/run-birthday-job?workspace_id=${ws.body.id}`).set(auth).expect(202);
    const posts = await waitFor(() => (slack.requestsTo(hook).length ? slack.requestsTo(hook) : undefined), {
      timeoutMs: 30_000,
      what: 'the Slack post',
    });
    expect(posts).to.have.length(1);
    expect((posts[0]?.body as { text: string }).text).to.equal(
      ':partying_face: Happy Birthday, *Ada &amp; &lt;Bob&gt;* and *Zoë*! :tada:',
    );
    await waitFor(
      async () =>
        (await priv.db('notifications').where({ workspace_id: ws.body.id, status: 'sent' }).first()) as unknown,
      { what: 'the notification to be sent' },
    );

    // A second manual run the same local day finds the day's row and posts nothing.
    await request(app).post(`/utils/run-birthday-job?workspace_id=${ws.body.id}`).set(auth).expect(202);
    const queue = testDeps().producers.queue(QUEUES.birthdayScan);
    await waitFor(
      async () =>
        (await queue.getJobCounts('waiting', 'active', 'delayed')).waiting === 0 &&
        (await queue.getActiveCount()) === 0,
      { timeoutMs: 30_000, what: 'the second run to finish' },
    );
    expect(slack.requestsTo(hook)).to.have.length(1);
    expect(await priv.db('birthday_posts').where({ workspace_id: ws.body.id })).to.have.length(1);
    const shown = await request(app).get(`/workspaces/${ws.body.id}`).set(auth).expect(200);
    expect(shown.body.slack_status).to.equal('ok');
    expect(shown.body.slack_webhook).to.equal(`http://127.0.0.1:${slack.port}/services/****${hook.slice(-4)}`);
  });
});
