// The API's Redis cache of the user, birthday and workspace listings, one key per kind and workspace. Every write that
// changes a listing deletes its keys before the request answers, so a listing is never stale after a write.
// Deleting is not enough on its own: a read that loaded the rows before the write could store them after the
// delete. So every invalidation also bumps a generation counter, and a load stores its rows only if the
// generations it saw before loading are still current (one Lua script, atomic in Redis).
// With Redis down, listings come from PostgreSQL and a warning is logged. The workers invalidate through it too,
// when they change what a listing shows (a workspace's slack_status).
import { appKey, type Redis } from '@nudge/queue';
import type { Logger } from '@nudge/logger';

export type ListingKind = 'users' | 'birthdays' | 'workspaces';
/** The platform admin's listing of every workspace's rows. */
export const ALL_KEY = '_all';

/** How long a generation counter outlives its last bump: far longer than any load, so it cannot lapse mid-load. */
const GENERATION_TTL_SECONDS = 86_400;

// KEYS: entry, kind generation, scope generation. ARGV: value, ttl, the two generations seen before loading.
const STORE_IF_CURRENT = `
if (redis.call('GET', KEYS[2]) or '0') == ARGV[3] and (redis.call('GET', KEYS[3]) or '0') == ARGV[4] then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0`;

interface Entry<T> {
  /** Anything that must match for the entry to be served, e.g. the local date an order was computed for. */
  stamp?: string;
  /** The timezone that stamp was computed in, so a reader can check it without a query. */
  tz?: string;
  data: T;
}

export class ListingCache {
  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly ttlSeconds = 300,
  ) {}

  key(kind: ListingKind, scopeKey: string): string {
    return appKey('cache', kind, scopeKey);
  }

  /** Bumped by invalidateAll: every listing of the kind. */
  private kindGeneration(kind: ListingKind): string {
    return appKey('cache-gen', kind);
  }

  /** Bumped by invalidate: one workspace's listing (or the platform-wide one). */
  private scopeGeneration(kind: ListingKind, scopeKey: string): string {
    return appKey('cache-gen', kind, scopeKey);
  }

  async getOrLoad<T>(
    kind: ListingKind,
    scopeKey: string,
    load: () => Promise<T>,
    freshness?: { stampFor: (tz: string) => string; load: () => Promise<{ tz: string; data: T }> },
  ): Promise<T> {
    const key = this.key(kind, scopeKey);
    const generations = [this.kindGeneration(kind), this.scopeGeneration(kind, scopeKey)] as const;
    let seen: [string, string];
    try {
      const [raw, kindGen, scopeGen] = await this.redis.mget(key, ...generations);
      if (raw) {
        const entry = JSON.parse(raw) as Entry<T>;
        if (!freshness || (entry.tz && entry.stamp === freshness.stampFor(entry.tz))) return entry.data;
      }
      seen = [kindGen ?? '0', scopeGen ?? '0'];
    } catch (err) {
      this.logger.warn(`listing cache unavailable, reading ${kind} from PostgreSQL`, { err: (err as Error).message });
      return freshness ? (await freshness.load()).data : load();
    }
    let entry: Entry<T>;
    if (freshness) {
      const { tz, data } = await freshness.load();
      entry = { tz, stamp: freshness.stampFor(tz), data };
    } else {
      entry = { data: await load() };
    }
    try {
      // A write that invalidated this listing while it loaded bumped a generation: then the rows are not stored.
      await this.redis.eval(STORE_IF_CURRENT, 3, key, ...generations, JSON.stringify(entry), this.ttlSeconds, ...seen);
    } catch (err) {
      this.logger.warn(`listing cache unavailable, ${kind} not cached`, { err: (err as Error).message });
    }
    return entry.data;
  }

  /** Deletes the listings of the given workspaces and the platform-wide one. */
  async invalidate(kind: ListingKind | ListingKind[], workspaceIds: (string | null | undefined)[]): Promise<void> {
    const kinds = Array.isArray(kind) ? kind : [kind];
    const ids = [...new Set(workspaceIds.filter((w): w is string => !!w)), ALL_KEY];
    const keys = kinds.flatMap((k) => ids.map((id) => this.key(k, id)));
    const tx = this.redis.multi();
    for (const k of kinds)
      for (const id of ids)
        tx.incr(this.scopeGeneration(k, id)).expire(this.scopeGeneration(k, id), GENERATION_TTL_SECONDS);
    tx.del(...keys);
    try {
      await tx.exec();
    } catch (err) {
      // A cache we cannot reach cannot serve stale data either; the TTL bounds it once Redis is back.
      this.logger.warn('listing cache unavailable for invalidation', { err: (err as Error).message });
    }
  }

  private async keysOf(kind: ListingKind): Promise<string[]> {
    const pattern = `${this.key(kind, '')}*`;
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 200);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys;
  }

  /** Deletes every cached listing of these kinds, for writes that touch many workspaces at once. */
  async invalidateAll(kinds: ListingKind[]): Promise<void> {
    try {
      const tx = this.redis.multi();
      for (const k of kinds) tx.incr(this.kindGeneration(k)).expire(this.kindGeneration(k), GENERATION_TTL_SECONDS);
      await tx.exec();
      const keys = (await Promise.all(kinds.map((k) => this.keysOf(k)))).flat();
      if (keys.length) await this.redis.del(...keys);
    } catch (err) {
      this.logger.warn('listing cache unavailable for invalidation', { err: (err as Error).message });
    }
  }

  /** Every cached listing of a kind, joined across workspaces, or null when none is cached. */
  async dump(kind: ListingKind): Promise<unknown[] | null> {
    const keys = await this.keysOf(kind);
    if (!keys.length) return null;
    const values = await this.redis.mget(...keys.sort());
    const out: unknown[] = [];
    for (const v of values) if (v) out.push(...((JSON.parse(v) as Entry<unknown[]>).data ?? []));
    return out;
  }
}
