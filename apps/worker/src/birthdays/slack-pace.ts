// Posts to one Slack webhook are paced at one per interval (1 s) across every process, through a Redis key per
// webhook. The key names a hash of the URL, never the URL itself, and is keyed by webhook rather than workspace
// because two workspaces may share one hook.
import { createHash } from 'node:crypto';
import { appKey, type Redis } from '@nudge/queue';

export interface SlackPacer {
  /** Takes the webhook's slot: 0 when taken, otherwise how many ms until it may be free. */
  acquire(webhookUrl: string): Promise<number>;
  /** Starts the interval again from now, so the next post goes out at least one interval after this answer. */
  restartInterval(webhookUrl: string): Promise<void>;
}

const keyFor = (webhookUrl: string) => appKey('slack-pace', createHash('sha256').update(webhookUrl).digest('hex').slice(0, 32));

export function redisSlackPacer(redis: Redis, intervalMs = 1000): SlackPacer {
  return {
    async acquire(webhookUrl) {
      const key = keyFor(webhookUrl);
      if ((await redis.set(key, '1', 'PX', intervalMs, 'NX')) === 'OK') return 0;
      const ttl = await redis.pttl(key);
      // -2: it expired between the two commands; -1 cannot happen (every SET has PX), but never wait forever.
      return ttl > 0 ? ttl : ttl === -2 ? 1 : intervalMs;
    },
    async restartInterval(webhookUrl) {
      await redis.set(keyFor(webhookUrl), '1', 'PX', intervalMs);
    },
  };
}
