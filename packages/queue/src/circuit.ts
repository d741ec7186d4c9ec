// A circuit breaker over one fail-fast Redis client (the API's cache, rate limits and denylist). Without it, every
// request during an outage would wait out the command timeout; with it, the first failure opens the circuit and the
// callers go straight to their fallbacks (PostgreSQL, in-memory limiters) until Redis answers again.
//
// Closing is not immediate: Redis that comes back may have missed writes made while it was away (a logout's denied
// token), so the recovery hooks (reloading the denylist, flushing the cache) run first, and only when they succeed
// is Redis trusted again. Meanwhile ('recovering'), writes go to Redis again but reads keep using the fallbacks.
//
// Never put a BullMQ worker connection behind this: its blocking commands are not meant to time out.
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { pingRedis } from './connection';

export type RedisCircuitState = 'closed' | 'open' | 'recovering';

export interface RedisCircuitOptions {
  /** How often an open circuit PINGs Redis to see whether it answers again. */
  probeEveryMs?: number;
  /** How long a probe's PING may take. */
  probeTimeoutMs?: number;
}

export interface RedisCircuitEvents {
  /** Once per change of state, with why. */
  transition: [state: RedisCircuitState, reason: string];
  /** Once per operation served by a fallback instead of Redis. */
  fallback: [component: string];
  /** A recovery hook failed: the circuit stays open and probes again. */
  recoveryFailed: [err: unknown];
}

export class RedisCircuit extends EventEmitter<RedisCircuitEvents> {
  private current: RedisCircuitState = 'closed';
  private readonly hooks = new Map<string, () => Promise<void>>();
  private timer: NodeJS.Timeout | undefined;
  private recovery: Promise<void> | undefined;
  private readonly probeEveryMs: number;
  private readonly probeTimeoutMs: number;

  constructor(
    readonly redis: Redis,
    opts: RedisCircuitOptions = {},
  ) {
    super();
    // Every app built on one client (tests build many) listens here.
    this.setMaxListeners(0);
    this.probeEveryMs = opts.probeEveryMs ?? 1000;
    this.probeTimeoutMs = opts.probeTimeoutMs ?? 500;
    // A dropped connection opens the circuit at once, before any request pays a timeout for it; a new one is tried
    // as soon as ioredis has it ready.
    redis.on('close', () => this.trip('connection closed'));
    redis.on('ready', () => {
      if (this.current === 'open') void this.recover();
    });
  }

  get state(): RedisCircuitState {
    return this.current;
  }

  /**
   * Runs before the circuit closes after an outage; a failure keeps it open. One hook per name: an app built again on
   * the same client (tests build many) replaces its hooks instead of piling them up.
   */
  beforeClosing(name: string, hook: () => Promise<unknown>): void {
    this.hooks.set(name, async () => {
      await hook();
    });
  }

  /** A read: from Redis only while the circuit is closed, else (or when Redis fails) from the fallback. */
  async read<T>(component: string, op: () => Promise<T>, fallback: () => Promise<T> | T): Promise<T> {
    if (this.current !== 'closed') return this.fellBack(component, fallback);
    try {
      return await op();
    } catch (err) {
      this.trip(describe(err));
      return this.fellBack(component, fallback);
    }
  }

  /**
   * A write of a copy whose truth is elsewhere (or of nothing that matters): skipped while the circuit is open. Says
   * whether Redis took it; a failure opens the circuit, so the recovery hooks repair what was missed.
   */
  async write(component: string, op: () => Promise<unknown>): Promise<boolean> {
    if (this.current === 'open') {
      this.emit('fallback', component);
      return false;
    }
    try {
      await op();
      return true;
    } catch (err) {
      this.trip(describe(err));
      this.emit('fallback', component);
      return false;
    }
  }

  /**
   * The client as a library that checks ioredis's `status` before each command sees it (rate-limiter-flexible with
   * rejectIfRedisNotReady): not 'ready' while the circuit is not closed, so it uses its insurance limiter at once.
   * A failed command opens the circuit.
   */
  gated(component: string): Redis {
    return new Proxy(this.redis, {
      get: (target, prop) => {
        if (prop === 'status') {
          if (this.current === 'closed') return target.status;
          this.emit('fallback', component);
          return 'circuit-open';
        }
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          const out: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
          if (out instanceof Promise) out.catch((err: unknown) => this.trip(describe(err)));
          return out;
        };
      },
    });
  }

  /** Opens the circuit (once; later calls while open change nothing) and starts probing. */
  trip(reason: string): void {
    if (this.current === 'open') return;
    this.current = 'open';
    this.emit('transition', 'open', reason);
    this.timer ??= setInterval(() => void this.probe(), this.probeEveryMs);
    // A probe timer must never keep a process (or a test run) alive.
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    if (this.current !== 'open') return;
    if (await pingRedis(this.redis, this.probeTimeoutMs)) await this.recover();
  }

  private recover(): Promise<void> {
    this.recovery ??= (async () => {
      this.current = 'recovering';
      this.emit('transition', 'recovering', 'Redis answers again');
      try {
        for (const hook of this.hooks.values()) await hook();
      } catch (err) {
        this.emit('recoveryFailed', err);
        // The probe timer still runs: the next probe tries again.
        if (this.current === 'recovering') {
          this.current = 'open';
          this.emit('transition', 'open', `recovery failed: ${describe(err)}`);
        }
        return;
      } finally {
        this.recovery = undefined;
      }
      // A write that failed during the hooks opened the circuit again: then it stays open.
      if (this.current !== 'recovering') return;
      this.current = 'closed';
      clearInterval(this.timer);
      this.timer = undefined;
      this.emit('transition', 'closed', 'recovered');
    })();
    return this.recovery;
  }

  private async fellBack<T>(component: string, fallback: () => Promise<T> | T): Promise<T> {
    this.emit('fallback', component);
    return fallback();
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const circuits = new WeakMap<Redis, RedisCircuit>();

/** The one circuit of a client: everything that uses the client shares its view of whether Redis is up. */
export function circuitFor(redis: Redis, opts?: RedisCircuitOptions): RedisCircuit {
  let c = circuits.get(redis);
  if (!c) {
    c = new RedisCircuit(redis, opts);
    circuits.set(redis, c);
  }
  return c;
}
