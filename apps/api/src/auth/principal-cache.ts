// The caller's user row, kept in this process so that an authenticated request need not read PostgreSQL.
//
// Why this shape: every request already made one Redis round trip (the denylist's MGET). The same MGET now also
// reads the user's generation and a generation shared by every user, so a cached row costs no extra round trip and
// is checked on every request: a write to a user (password, role, workspace, deactivation, deletion) replaces the
// user's generation in Redis before its request answers, so every replica's next request with that user's token
// sees a generation that no longer matches its copy and reads PostgreSQL again. The alternative, pub/sub
// invalidation, is one more connection per replica and loses messages while a subscriber reconnects; a generation
// read on every request cannot be missed.
//
// A generation is a random value, never a counter: a key that expired and was written again can never come back to
// a value an old copy holds. Writes that cannot name their users (a workspace deleted with its members) replace the
// shared generation, which drops every copy everywhere.
//
// When Redis cannot answer, the denylist reads PostgreSQL and so does the user: nothing is served from the copy.
// A generation write lost while this replica's circuit was open would leave other replicas' copies standing, so
// before the circuit closes again the shared generation is replaced (like the denylist's reload). A copy also lives
// at most COPY_TTL_MS: the bound for a write no replica announced (SQL by hand, a CLI).
import crypto from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { findUserById, isAccessTokenOrFamilyDenied, type Db, type UserRow } from '@nudge/db';
import { appKey, type Redis, type RedisCircuit } from '@nudge/queue';
import { TokenDenylist } from './denylist';
import type { AccessClaims } from './access-tokens';

const COPY_TTL_MS = 60_000;
const MAX_COPIES = 10_000;
/** Far longer than a copy lives: a generation must not lapse while a copy read under it may still be served. */
const GENERATION_TTL_SECONDS = 86_400;
const EVERYONE = '_all';

interface Copy {
  user: Readonly<UserRow>;
  generation: string;
}

export class PrincipalCache {
  private readonly redis: Redis;
  private readonly copies = new LRUCache<string, Copy>({ max: MAX_COPIES, ttl: COPY_TTL_MS });

  constructor(
    private readonly db: Db,
    private readonly circuit: RedisCircuit,
  ) {
    this.redis = circuit.redis;
    circuit.beforeClosing('principals', () => this.forgetEveryone());
  }

  private static generationKey(userId: string): string {
    return appKey('principal-gen', userId);
  }

  /**
   * The token's user, or undefined when the token is denied (its jti or its refresh family) or the user is gone.
   * One Redis round trip; PostgreSQL only on a miss, a changed generation, or while Redis is unavailable.
   */
  async resolve(claims: Pick<AccessClaims, 'sub' | 'jti' | 'sid'>): Promise<Readonly<UserRow> | undefined> {
    const seen = await this.circuit.read<{ denied: boolean; generation: string | null }>(
      'denylist',
      async () => {
        const [byJti, byFamily, own, everyone] = await this.redis.mget(
          TokenDenylist.jtiKey(claims.jti),
          TokenDenylist.familyKey(claims.sid),
          PrincipalCache.generationKey(claims.sub),
          PrincipalCache.generationKey(EVERYONE),
        );
        return { denied: byJti !== null || byFamily !== null, generation: `${own ?? '-'}/${everyone ?? '-'}` };
      },
      async () => ({
        denied: await isAccessTokenOrFamilyDenied(this.db, claims.jti, claims.sid),
        generation: null,
      }),
    );
    if (seen.denied) return undefined;
    if (seen.generation === null) return findUserById(this.db, claims.sub);
    const copy = this.copies.get(claims.sub);
    if (copy?.generation === seen.generation) return copy.user;
    // Read after the generation: a write landing in between changes the generation, so this copy is not served twice.
    const user = await findUserById(this.db, claims.sub);
    if (user) this.copies.set(claims.sub, { user: Object.freeze(user), generation: seen.generation });
    else this.copies.delete(claims.sub);
    return user;
  }

  /** Call after a write to these users has committed, before its request answers. */
  async forget(userIds: string[]): Promise<void> {
    const ids = [...new Set(userIds)];
    if (!ids.length) return;
    for (const id of ids) this.copies.delete(id);
    await this.circuit.write('principals', () => {
      const tx = this.redis.multi();
      for (const id of ids) tx.set(PrincipalCache.generationKey(id), newGeneration(), 'EX', GENERATION_TTL_SECONDS);
      return tx.exec();
    });
  }

  /** Drops every copy in every replica: for writes to users the caller cannot list. */
  async forgetAll(): Promise<void> {
    this.copies.clear();
    await this.circuit.write('principals', () => this.replaceEveryone());
  }

  /** The circuit's hook: throws when Redis fails, so the circuit stays open (and nothing is served from copies). */
  private async forgetEveryone(): Promise<void> {
    this.copies.clear();
    await this.replaceEveryone();
  }

  private replaceEveryone(): Promise<unknown> {
    return this.redis.set(PrincipalCache.generationKey(EVERYONE), newGeneration(), 'EX', GENERATION_TTL_SECONDS);
  }
}

function newGeneration(): string {
  return crypto.randomBytes(9).toString('base64url');
}
