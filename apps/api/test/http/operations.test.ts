import { expect } from 'chai';
import request from 'supertest';
import { getConfig } from '@nudge/config';
import { NOTIFICATION_CHANNELS, NOTIFICATION_STATUSES, countNotificationsByStatusAndChannel } from '@nudge/db';
import { QUEUES } from '@nudge/queue';
import { testApp, testDeps, signUp, superuser, unique } from '../helpers';
import { appWith } from '../security/security-helpers';
import { memoryLogger, waitFor } from '@nudge/testing';

describe('operations endpoints', () => {
  describe('GET /metrics', () => {
    it('answers Prometheus text with request durations by route pattern, never by raw id', async () => {
      const s = await signUp(testApp(), { workspace_name: unique('metrics') });
      await request(testApp()).get(`/users/${s.user.id}`).set(s.auth).expect(200);
      const res = await request(testApp()).get('/metrics').expect(200);
      expect(res.headers['content-type']).to.match(/^text\/plain/);
      expect(res.text).to.contain('http_request_duration_seconds_bucket');
      expect(res.text).to.contain('route="/users/:id"');
      expect(res.text).to.not.contain(s.user.id);
    });

    it('is served at the root only', async () => {
      await request(testApp()).get('/api/v1/metrics').expect(404);
    });

    it('shows every queue and every notification status x channel, zeros included, and the Redis circuit', async () => {
      const { app } = appWith();
      const counts = await countNotificationsByStatusAndChannel(testDeps().db);
      const res = await request(app).get('/metrics').expect(200);
      for (const queue of Object.values(QUEUES)) {
        for (const outcome of ['completed', 'failed', 'retried'])
          expect(res.text).to.match(
            new RegExp(`^queue_jobs_total\\{queue="${queue}",outcome="${outcome}"\\} \\d+$`, 'm'),
          );
        for (const name of ['queue_waiting_jobs', 'queue_oldest_waiting_seconds', 'queue_stuck'])
          expect(res.text).to.match(new RegExp(`^${name}\\{queue="${queue}"\\} [\\d.]+$`, 'm'));
      }
      expect(counts).to.have.length(NOTIFICATION_STATUSES.length * NOTIFICATION_CHANNELS.length);
      for (const c of counts)
        expect(res.text).to.contain(`notifications_by_status{status="${c.status}",channel="${c.channel}"} ${c.count}`);
      expect(res.text).to.match(/^redis_circuit_state 0$/m);
    });

    it('counts waiting jobs at scrape time', async () => {
      // A new app each time: one app reads the queues at most once a second.
      const scrape = async () => (await request(appWith().app).get('/metrics').expect(200)).text;
      const waiting = (text: string) =>
        Number(/^queue_waiting_jobs\{queue="stripe-sweep"\} (\d+)$/m.exec(text)?.[1] ?? NaN);
      const before = waiting(await scrape());
      // No process of this test run consumes stripe-sweep, so the job waits.
      const job = await testDeps().producers.queue(QUEUES.stripeSweep).add(QUEUES.stripeSweep, {});
      try {
        expect(waiting(await scrape())).to.equal(before + 1);
      } finally {
        await job.remove();
      }
    });

    it('shows a queue stuck past QUEUE_STUCK_SECONDS, while /ready keeps answering 200', async () => {
      const { logger, lines } = memoryLogger();
      const { app } = appWith({ queueStuckSeconds: 1 }, { logger });
      const job = await testDeps().producers.queue(QUEUES.stripeSweep).add(QUEUES.stripeSweep, {});
      try {
        await waitFor(
          async () =>
            /^queue_stuck\{queue="stripe-sweep"\} 1$/m.test((await request(app).get('/metrics').expect(200)).text),
          { timeoutMs: 15_000, everyMs: 250, what: 'stripe-sweep to be stuck' },
        );
        expect(lines.some((l) => l.level === 'warn' && /queue stripe-sweep is stuck/.test(l.message))).to.equal(true);
        await request(app).get('/ready').expect(200);
      } finally {
        await job.remove();
      }
    });

    it('needs the METRICS_TOKEN bearer in production', async () => {
      const token = 'made-up-metrics-token';
      const { app } = appWith({
        env: 'production',
        isProduction: true,
        trustedProxies: ['loopback'],
        allowedHosts: [],
        metricsToken: token,
      });
      const host = new URL(getConfig().publicBaseUrl).hostname;
      const get = () => request(app).get('/metrics').set('Host', host).set('X-Forwarded-Proto', 'https');
      const missing = await get().expect(401);
      expect(missing.body.code).to.equal('UNAUTHORIZED');
      await get().set('Authorization', 'Bearer not-the-token').expect(401);
      const res = await get().set('Authorization', `Bearer ${token}`).expect(200);
      expect(res.text).to.contain('queue_jobs_total');
    });
  });

  describe('/admin/queues', () => {
    it('needs a token, and the platform admin', async () => {
      await request(testApp()).get('/admin/queues').expect(401);
      const s = await signUp(testApp(), { workspace_name: unique('ops') });
      await request(testApp()).get('/admin/queues').set(s.auth).expect(403);
    });

    it('shows the queue dashboard to the platform admin', async () => {
      const root = await superuser(testApp());
      const res = await request(testApp()).get('/admin/queues').set(root.auth).expect(200);
      expect(res.text).to.match(/bull/i);
      const api = await request(testApp()).get('/admin/queues/api/queues').set(root.auth).expect(200);
      const names = (api.body.queues as { name: string }[]).map((q) => q.name);
      expect(names).to.include.members(['birthday-scan', 'dispatch-slack', 'dispatch-email']);
    });
  });
});
