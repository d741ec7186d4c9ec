// bcrypt off the event loop. bcryptjs is pure JS and even its async API runs on the calling thread (about 80 ms per
// hash at cost 10), so a burst of logins would stall every other request. Hashing runs instead in a piscina pool of
// max(1, cores - 1) threads, leaving the event loop a core, and with a bounded queue so that a flood is refused
// (HashPoolBusyError → 503) rather than queued for ever.
//
// Work waits in two lanes. Login verifies take the `login` lane; registration, reset and password changes the `other`
// lane. A free thread always takes a login first, and each lane has its own bound, so a flood of other work can fill
// only its own lane: a login waits at most for the hashes already running, never behind a queue of resets.
import os from 'node:os';
import { Piscina } from 'piscina';
import { getConfig } from '@nudge/config';

/** The pool's queue is full: the caller should answer 503 and let the client retry. */
export class HashPoolBusyError extends Error {
  constructor() {
    super('Password hashing pool is busy');
    this.name = 'HashPoolBusyError';
  }
}

/** Which lane a task waits in: logins are served first and never share a queue bound with other work. */
export type HashLane = 'login' | 'other';

export interface PasswordPoolOptions {
  /** Worker threads; defaults to max(1, cores - 1). */
  maxThreads?: number;
  /** Tasks allowed to wait in each lane before new ones are refused; defaults to HASH_POOL_MAX_QUEUE. */
  maxQueue?: number;
}

export interface Traced<T> {
  result: T;
  /** The worker thread that ran the task (never 0, the main thread). */
  threadId: number;
}

export interface PasswordPoolStats {
  /** Every thread that has run a task so far. */
  threadIds: ReadonlySet<number>;
  threads: number;
  /** Tasks waiting, in both lanes. */
  queueSize: number;
  queued: Record<HashLane, number>;
  completed: number;
}

/** Hashes default to the `other` lane and verifies to `login`; a password check that is not a login says so. */
export interface PasswordPool {
  hash(password: string, cost: number, lane?: HashLane): Promise<string>;
  verify(password: string, hash: string, lane?: HashLane): Promise<boolean>;
  hashTraced(password: string, cost: number, lane?: HashLane): Promise<Traced<string>>;
  verifyTraced(password: string, hash: string, lane?: HashLane): Promise<Traced<boolean>>;
  stats(): PasswordPoolStats;
  close(): Promise<void>;
}

type HashTask = { op: 'hash'; password: string; cost: number } | { op: 'verify'; password: string; hash: string };

interface Waiting {
  task: HashTask;
  resolve: (out: Traced<string | boolean>) => void;
  reject: (err: unknown) => void;
}

export function defaultPoolThreads(): number {
  return Math.max(1, os.availableParallelism() - 1);
}

export function createPasswordPool(options: PasswordPoolOptions = {}): PasswordPool {
  const maxThreads = options.maxThreads ?? defaultPoolThreads();
  const maxQueue = options.maxQueue ?? getConfig().hashPoolMaxQueue;
  const piscina = new Piscina<HashTask, Traced<string | boolean>>({
    filename: new URL('./hash.worker.mjs', import.meta.url).href,
    maxThreads,
    // All threads start with the pool (which is created on first use) and stay: a cold thread on a login costs more
    // than an idle one.
    minThreads: maxThreads,
    // The lanes below hold the waiting work: piscina is never given more tasks than it has threads.
    // The worker is plain JavaScript, so threads need none of the parent's flags (such as the tsx loader).
    execArgv: [],
  });
  const threadIds = new Set<number>();
  const lanes: Record<HashLane, Waiting[]> = { login: [], other: [] };
  let running = 0;
  let completed = 0;
  let onIdle: (() => void) | undefined;

  function pump(): void {
    while (running < maxThreads) {
      const next = lanes.login.shift() ?? lanes.other.shift();
      if (!next) return;
      running++;
      piscina
        .run(next.task)
        .then((out) => {
          threadIds.add(out.threadId);
          completed++;
          next.resolve(out);
        }, next.reject)
        .finally(() => {
          running--;
          pump();
          if (running === 0) onIdle?.();
        });
    }
  }

  function run<T extends string | boolean>(task: HashTask, lane: HashLane): Promise<Traced<T>> {
    // A task that would wait beyond its lane's bound is refused now, before it costs anything.
    if (running >= maxThreads && lanes[lane].length >= maxQueue) return Promise.reject(new HashPoolBusyError());
    return new Promise<Traced<string | boolean>>((resolve, reject) => {
      lanes[lane].push({ task, resolve, reject });
      pump();
    }) as Promise<Traced<T>>;
  }

  const hashTask = (password: string, cost: number): HashTask => ({ op: 'hash', password, cost });
  const verifyTask = (password: string, hash: string): HashTask => ({ op: 'verify', password, hash });
  return {
    hashTraced: (password, cost, lane = 'other') => run<string>(hashTask(password, cost), lane),
    verifyTraced: (password, hash, lane = 'login') => run<boolean>(verifyTask(password, hash), lane),
    hash: async (password, cost, lane = 'other') => (await run<string>(hashTask(password, cost), lane)).result,
    verify: async (password, hash, lane = 'login') => (await run<boolean>(verifyTask(password, hash), lane)).result,
    stats: () => ({
      threadIds,
      threads: piscina.threads.length,
      queueSize: lanes.login.length + lanes.other.length,
      queued: { login: lanes.login.length, other: lanes.other.length },
      completed,
    }),
    // Graceful: tasks already running or queued finish first.
    close: async () => {
      if (running > 0) await new Promise<void>((resolve) => (onIdle = resolve));
      await piscina.close();
    },
  };
}

let shared: PasswordPool | undefined;

/** The process-wide pool, created on first use so that processes which never hash start no threads. */
export function getPasswordPool(): PasswordPool {
  shared ??= createPasswordPool();
  return shared;
}

/** Stops the shared pool's threads; a later hash starts a new pool. */
export async function closePasswordPool(): Promise<void> {
  const pool = shared;
  shared = undefined;
  await pool?.close();
}
