// The API's Redis cache of the user, birthday and workspace listings, one key per kind and workspace. Every write that
// changes a listing deletes its keys before the request answers, so a listing is never stale after a write.
// Deleting is not enough on its own: a read that loaded the rows before the write could store them after the
// delete. So every invalidation also bumps a generation counter, and a load stores its rows only if the
// generations it saw before loading are still current (one Lua script, atomic in Redis).
// With Redis down, listings come from PostgreSQL and a warning is logged. Given the API's Redis circuit, the cache
// is skipped outright while the circuit is not closed (the circuit logs and counts that, once per outage), and it is
// flushed before the circuit closes, since invalidations made during the outage never reached it. The workers
// invalidate through it too, when they change what a listing shows (a workspace's slack_status).
import etag from 'etag';
import { appKey, type Redis, type RedisCircuit } from '@nudge/queue';
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
  /** The data's HTTP validator, computed once when it is stored rather than hashed again on every hit. */
  etag?: string;
  data: T;
}

/** A listing ready to answer as it is: its JSON bytes and their weak ETag (Express's own format). */
export interface JsonListing {
  body: Buffer;
  etag: string;
}

interface Freshness<T> {
  stampFor: (tz: string) => string;
  load: () => Promise<{ tz: string; data: T }>;
}

const DATA_FIELD = Buffer.from('"data":');
const COMMA = 0x2c;
const CLOSE_BRACE = 0x7d;

/**
 * An entry's head (stamp, tz, etag), and its data as the stored JSON bytes. Entries are stored with the head's
 * fields (strings, or absent) before data, so the text is `{"tz":…,"stamp":…,"etag":…,"data":…}`: the first
 * `"data":` outside a string is data's key, and a string cannot hold it unescaped. Only the short head is decoded
 * and parsed; the data stays the bytes Redis sent. Null for bytes of any other shape (a miss).
 */
function splitEntry(raw: Buffer): { stamp?: string; tz?: string; etag?: string; body: Buffer } | null {
  const at = raw.indexOf(DATA_FIELD);
  if (at < 1 || raw[raw.length - 1] !== CLOSE_BRACE) return null;
  // A head-less entry (`{"data":…}`, stored before entries kept an ETag) is a miss too.
  if (raw[at - 1] !== COMMA) return null;
  const body = raw.subarray(at + DATA_FIELD.length, raw.length - 1);
  const head = JSON.parse(`${raw.toString('utf8', 0, at - 1)}}`) as { stamp?: string; tz?: string; etag?: string };
  return { stamp: head.stamp, tz: head.tz, etag: head.etag, body };
}

/** The stored text of an entry whose data is already JSON: the head's fields first, then data (see splitEntry). */
function entryText(head: Omit<Entry<unknown>, 'data'> & { etag: string }, dataJson: string): string {
  return `${JSON.stringify(head).slice(0, -1)},"data":${dataJson}}`;
}

/** A listing's JSON text as the bytes and ETag an answer sends. */
export function jsonListing(dataJson: string): JsonListing {
  return { body: Buffer.from(dataJson), etag: etag(dataJson, { weak: true }) };
}

export class ListingCache {
  constructor(
    private readonly redis: Redis,
    private readonly logger: Logger,
    private readonly ttlSeconds = 300,
    private readonly circuit?: RedisCircuit,
  ) {
    circuit?.beforeClosing('listing-cache', () => this.flush());
  }

  /** A read from Redis, or the fallback when Redis is unavailable. */
  private async read<T>(warning: string, op: () => Promise<T>, fallback: () => T): Promise<T> {
    if (this.circuit) return this.circuit.read('cache', op, fallback);
    try {
      return await op();
    } catch (err) {
      this.logger.warn(warning, { err: (err as Error).message });
      return fallback();
    }
  }

  /** A write to Redis that may be lost: a cache entry, or an invalidation of a cache that cannot be read either. */
  private async write(warning: string, op: () => Promise<unknown>): Promise<void> {
    if (this.circuit) {
      await this.circuit.write('cache', op);
      return;
    }
    try {
      await op();
    } catch (err) {
      this.logger.warn(warning, { err: (err as Error).message });
    }
  }

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
    freshness?: Freshness<T>,
  ): Promise<T> {
    const got = await this.fetch(kind, scopeKey, load, freshness);
    return 'hit' in got ? (JSON.parse(got.hit.body.toString('utf8')) as T) : got.data;
  }

  /**
   * The listing as JSON bytes and its ETag, for an answer that sends them as they are: a hit is a slice of the bytes
   * Redis sent, never decoded, parsed, serialised, encoded or hashed again.
   */
  async getOrLoadJson<T>(
    kind: ListingKind,
    scopeKey: string,
    load: () => Promise<T>,
    freshness?: Freshness<T>,
  ): Promise<JsonListing> {
    const got = await this.fetch(kind, scopeKey, load, freshness);
    if ('hit' in got) return got.hit;
    if (!got.stored) return jsonListing(JSON.stringify(got.data));
    return { body: Buffer.from(got.stored.dataJson), etag: got.stored.etag };
  }

  private async fetch<T>(
    kind: ListingKind,
    scopeKey: string,
    load: () => Promise<T>,
    freshness?: Freshness<T>,
  ): Promise<{ hit: JsonListing } | { data: T; stored?: { dataJson: string; etag: string } }> {
    const key = this.key(kind, scopeKey);
    const generations = [this.kindGeneration(kind), this.scopeGeneration(kind, scopeKey)] as const;
    const cached = await this.read<{ hit: JsonListing } | { seen: [string, string] } | null>(
      `listing cache unavailable, reading ${kind} from PostgreSQL`,
      async () => {
        const [raw, kindGen, scopeGen] = await this.redis.mgetBuffer(key, ...generations);
        const entry = raw ? splitEntry(raw) : null;
        // An entry without an ETag (stored before entries kept one) is a miss: it is loaded and stored again with one.
        if (entry?.etag && (!freshness || (entry.tz && entry.stamp === freshness.stampFor(entry.tz))))
          return { hit: { body: entry.body, etag: entry.etag } };
        return { seen: [kindGen?.toString() ?? '0', scopeGen?.toString() ?? '0'] };
      },
      () => null,
    );
    if (cached === null) return { data: freshness ? (await freshness.load()).data : await load() };
    if ('hit' in cached) return cached;
    const { seen } = cached;
    let head: Omit<Entry<T>, 'data'> = {};
    let data: T;
    if (freshness) {
      const loaded = await freshness.load();
      data = loaded.data;
      head = { tz: loaded.tz, stamp: freshness.stampFor(loaded.tz) };
    } else {
      data = await load();
    }
    const dataJson = JSON.stringify(data);
    const stored = { dataJson, etag: etag(dataJson, { weak: true }) };
    const text = entryText({ ...head, etag: stored.etag }, dataJson);
    // A write that invalidated this listing while it loaded bumped a generation: then the rows are not stored.
    await this.write(`listing cache unavailable, ${kind} not cached`, () =>
      this.redis.eval(STORE_IF_CURRENT, 3, key, ...generations, text, this.ttlSeconds, ...seen),
    );
    return { data, stored };
  }

  /** Deletes the listings of the given workspaces and the platform-wide one. */
  async invalidate(kind: ListingKind | ListingKind[], workspaceIds: (string | null | undefined)[]): Promise<void> {
    const kinds = Array.isArray(kind) ? kind : [kind];
    const ids = [...new Set(workspaceIds.filter((w): w is string => !!w)), ALL_KEY];
    const keys = kinds.flatMap((k) => ids.map((id) => this.key(k, id)));
    // A cache we cannot reach cannot serve stale data either; once Redis is back, the circuit's flush (or else the
    // TTL) bounds it.
    await this.write('listing cache unavailable for invalidation', () => {
      const tx = this.redis.multi();
      for (const k of kinds)
        for (const id of ids)
          tx.incr(this.scopeGeneration(k, id)).expire(this.scopeGeneration(k, id), GENERATION_TTL_SECONDS);
      tx.del(...keys);
      return tx.exec();
    });
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
    await this.write('listing cache unavailable for invalidation', () => this.dropAll(kinds));
  }

  /** Drops every cached listing; throws when Redis fails, so the circuit stays open until it is done. */
  flush(): Promise<void> {
    return this.dropAll(['users', 'birthdays', 'workspaces']);
  }

  private async dropAll(kinds: ListingKind[]): Promise<void> {
    const tx = this.redis.multi();
    for (const k of kinds) tx.incr(this.kindGeneration(k)).expire(this.kindGeneration(k), GENERATION_TTL_SECONDS);
    await tx.exec();
    const keys = (await Promise.all(kinds.map((k) => this.keysOf(k)))).flat();
    if (keys.length) await this.redis.del(...keys);
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
