import { expect } from 'chai';
import request from 'supertest';
import { testApp, signUp, superuser, unique } from '../helpers';

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
