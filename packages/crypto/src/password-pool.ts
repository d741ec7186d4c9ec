// bcrypt off the event loop. bcryptjs is pure JS and even its async API runs on the calling thread (about 80 ms per
// hash at cost 10), so a burst of logins would stall every other request. Hashing runs instead in a piscina pool of
// max(1, cores - 1) threads, leaving the event loop a core, and with a bounded queue so that a flood is refused
// (HashPoolBusyError → 503) rather than queued for ever.
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

export interface PasswordPoolOptions {
  /** Worker threads; defaults to max(1, cores - 1). */
  maxThreads?: number;
  /** Tasks allowed to wait for a thread before new ones are refused; defaults to HASH_POOL_MAX_QUEUE. */
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
  queueSize: number;
  completed: number;
}

export interface PasswordPool {
  hash(password: string, cost: number): Promise<string>;
  verify(password: string, hash: string): Promise<boolean>;
  hashTraced(password: string, cost: number): Promise<Traced<string>>;
  verifyTraced(password: string, hash: string): Promise<Traced<boolean>>;
  stats(): PasswordPoolStats;
  close(): Promise<void>;
}

type HashTask = { op: 'hash'; password: string; cost: number } | { op: 'verify'; password: string; hash: string };

// piscina signals a full queue only through these messages (its error classes are not exported).
const QUEUE_FULL_MESSAGES = new Set(['Task queue is at limit', 'No task queue available and all Workers are busy']);

export function defaultPoolThreads(): number {
  return Math.max(1, os.availableParallelism() - 1);
}

export function createPasswordPool(options: PasswordPoolOptions = {}): PasswordPool {
  const maxThreads = options.maxThreads ?? defaultPoolThreads();
  const piscina = new Piscina<HashTask, Traced<string | boolean>>({
    filename: new URL('./hash.worker.mjs', import.meta.url).href,
    maxThreads,
    // All threads start with the pool (which is created on first use) and stay: a cold thread on a login costs more
    // than an idle one.
    minThreads: maxThreads,
    maxQueue: options.maxQueue ?? getConfig().hashPoolMaxQueue,
    // The worker is plain JavaScript, so threads need none of the parent's flags (such as the tsx loader).
    execArgv: [],
  });
  const threadIds = new Set<number>();

  async function run<T extends string | boolean>(task: HashTask): Promise<Traced<T>> {
    try {
      const out = (await piscina.run(task)) as Traced<T>;
      threadIds.add(out.threadId);
      return out;
    } catch (err) {
      if (err instanceof Error && QUEUE_FULL_MESSAGES.has(err.message)) throw new HashPoolBusyError();
      throw err;
    }
  }

  return {
    hashTraced: (password, cost) => run<string>({ op: 'hash', password, cost }),
    verifyTraced: (password, hash) => run<boolean>({ op: 'verify', password, hash }),
    hash: async (password, cost) => (await run<string>({ op: 'hash', password, cost })).result,
    verify: async (password, hash) => (await run<boolean>({ op: 'verify', password, hash })).result,
    stats: () => ({ threadIds, threads: piscina.threads.length, queueSize: piscina.queueSize, completed: piscina.completed }),
    // Graceful: tasks already running or queued finish first.
    close: () => piscina.close(),
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
