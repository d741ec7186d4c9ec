// The whole reset flow across processes: the API enqueues, a real dispatch-email worker mints the token and mails
// it through SendGrid's SDK to the fake, and the token from that mail resets the password.
import { expect } from 'chai';
import request from 'supertest';
import { getConfig } from '@nudge/config';
import { getLogger } from '@nudge/logger';
import { getDb } from '@nudge/db';
import { SendgridEmailAdapter } from '@nudge/channels';
import { createWorker, QUEUES, Producers, type Worker } from '@nudge/queue';
import { startFakeSendgrid, waitFor } from '@nudge/testing';
import { testApp, testDeps, signUp, login, PASSWORD, unique } from '../../apps/api/test/helpers';
import { bindProcessor } from '../../apps/worker/src/runtime';
import { createEmailProcessor } from '../../apps/worker/src/processors/email.processor';
import { createAdapterResolver } from '../../apps/worker/src/dispatch/adapter-resolver';

describe('password reset, end to end', () => {
  let fake: Awaited<ReturnType<typeof startFakeSendgrid>>;
  let worker: Worker;
  const producers = new Producers();

  before(async () => {
    fake = await startFakeSendgrid();
    const adapter = new SendgridEmailAdapter({ apiKey: fake.apiKey, apiUrl: fake.url, from: 'noreply@example.com' });
    const ctx = { config: getConfig(), logger: getLogger(), producers };
    worker = createWorker(
      QUEUES.dispatchEmail,
      bindProcessor(
        {
          queue: QUEUES.dispatchEmail,
          process: createEmailProcessor(adapter, {
            resolver: createAdapterResolver({ db: getDb(), config: getConfig() }),
          }),
        },
        ctx,
      ),
    );
  });
  after(async () => {
    await worker.close();
    await producers.close();
    await fake.close();
  });

  const mailTo = (email: string) =>
    waitFor(() => fake.mails.find((m) => JSON.stringify(m.body).includes(email)), { what: `a mail to ${email}` });

  it('mails a single-use link built from RESET_PASSWORD_URL, and the token in it resets the password', async () => {
    const s = await signUp(testApp());
    await request(testApp()).post('/auth/forgot-password').send({ email: s.user.email }).expect(202);
    const mail = await mailTo(s.user.email);
    const text = JSON.stringify(mail.body);
    const escaped = getConfig().resetPasswordUrl.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    const match = new RegExp(`${escaped}\\?token=([A-Za-z0-9_%-]+)`).exec(text);
    expect(match, text).to.not.equal(null);
    const token = decodeURIComponent(match?.[1] ?? '');
    expect(Buffer.from(token, 'base64url').length).to.be.at.least(16);
    // Stored hashed only.
    const rows = await getDb()('password_reset_tokens').where({ user_id: s.user.id });
    expect(rows).to.have.length(1);
    expect(JSON.stringify(rows)).to.not.contain(token);

    await request(testApp()).post('/auth/reset-password').send({ token, password: 'brand-new-pass-1' }).expect(200);
    await request(testApp()).get('/users/me').set(s.auth).expect(401);
    await request(testApp()).post('/auth/jwt/refresh').send({ refresh_token: s.refresh }).expect(401);
    await login(testApp(), s.user.email, 'brand-new-pass-1');
    const again = await request(testApp())
      .post('/auth/reset-password')
      .send({ token, password: 'another-pass-2' })
      .expect(400);
    expect(again.body).to.deep.equal({ detail: 'RESET_PASSWORD_BAD_TOKEN', code: 'RESET_PASSWORD_BAD_TOKEN' });
  });

  it('enqueues a job carrying only the user id, and nothing for an unknown email', async () => {
    const s = await signUp(testApp());
    const queue = testDeps().producers.queue(QUEUES.dispatchEmail);
    await request(testApp()).post('/auth/forgot-password').send({ email: s.user.email }).expect(202);
    await request(testApp())
      .post('/auth/forgot-password')
      .send({ email: `${unique()}@example.com` })
      .expect(202);
    await mailTo(s.user.email);
    const jobs = await queue.getJobs(['completed', 'active', 'waiting', 'delayed']);
    const mine = jobs.filter((j) => JSON.stringify(j.data).includes(s.user.id));
    expect(mine.length).to.be.at.least(1);
    for (const j of mine) expect(j.data).to.deep.equal({ kind: 'password-reset', userId: s.user.id });
    expect(jobs.some((j) => JSON.stringify(j.data).includes('@'))).to.equal(false);
  });

  it('answers 400 RESET_PASSWORD_BAD_TOKEN for a bad or expired token', async () => {
    await request(testApp())
      .post('/auth/reset-password')
      .send({ token: 'not-a-token', password: PASSWORD })
      .expect(400);
    const s = await signUp(testApp());
    await request(testApp()).post('/auth/forgot-password').send({ email: s.user.email }).expect(202);
    const mail = await mailTo(s.user.email);
    const token = decodeURIComponent(/token=([A-Za-z0-9_%-]+)/.exec(JSON.stringify(mail.body))?.[1] ?? '');
    await getDb()('password_reset_tokens')
      .where({ user_id: s.user.id })
      .update({ expires_at: new Date(Date.now() - 1000) });
    await request(testApp()).post('/auth/reset-password').send({ token, password: 'brand-new-pass-1' }).expect(400);
  });

  it('answers 422 for a malformed email', async () => {
    await request(testApp()).post('/auth/forgot-password').send({ email: 'not-an-email' }).expect(422);
  });
});
