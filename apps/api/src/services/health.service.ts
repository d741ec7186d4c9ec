// Readiness: whether PostgreSQL and Redis answer, so /ready can tell a load balancer. The route only answers.
import { pingDb, type Db } from '@nudge/db';
import { pingRedis, type Redis } from '@nudge/queue';

export type Check = 'ok' | 'down';

export class HealthService {
  constructor(private readonly deps: { db: Db; redis: Redis }) {}

  /** Each dependency's state, each given at most `timeoutMs` to answer. */
  async readiness(timeoutMs = 1000): Promise<{ postgres: Check; redis: Check }> {
    const [pg, rd] = await Promise.all([pingDb(this.deps.db, timeoutMs), pingRedis(this.deps.redis, timeoutMs)]);
    return { postgres: pg ? 'ok' : 'down', redis: rd ? 'ok' : 'down' };
  }
}
