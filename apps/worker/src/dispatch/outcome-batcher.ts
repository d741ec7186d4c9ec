// How a dispatch try's outcome is written: the attempt row and the notification's move, atomically (one statement,
// or one transaction with the rows that follow it, a birthday post). Under load many jobs finish within a few ms of
// each other, so the batcher gathers their writes and flushes them together: every `maxDelayMs`, or at once when
// `maxBatch` are waiting. A job awaits its own write, so it completes only once its outcome is committed: nothing is
// written behind the job's back, and a crash loses no write that a completed job relied on.
//
// A flush that fails (one bad row fails the statement for all) is retried one write at a time, so only the write
// that really fails reports it, to its own job, whose notification is left as it was (the job's retries decide).
// Two writes for one notification never share a flush: the later one waits for the next. close() flushes what is
// waiting and waits for flushes in flight; a write after close() is written at once.
import { recordNotificationAttempts, type AttemptWrite, type Db, type Trx } from '@nudge/db';

export interface OutcomeWrite extends AttemptWrite {
  /** Rows that follow the outcome, written in the same transaction (a birthday post's settlement). */
  follow?: (trx: Trx) => Promise<void>;
}

export interface OutcomeRecorder {
  /** Resolves once the write is committed; rejects with the database's error when it was not. */
  record(write: OutcomeWrite): Promise<void>;
  /** Flushes what is waiting and waits for every flush in flight (on shutdown, before the pool closes). */
  close(): Promise<void>;
}

export interface OutcomeBatchOptions {
  /** Writes per flush at most; a full batch flushes at once (100). */
  maxBatch?: number;
  /** How long the first write of a batch waits for others (10 ms; twice the reads' and claims', see micro-batch.ts). */
  maxDelayMs?: number;
}

/** Writes a set of outcomes atomically: one statement, or one transaction when rows follow them. */
async function writeOutcomes(db: Db, writes: readonly OutcomeWrite[]): Promise<void> {
  if (!writes.some((w) => w.follow)) return recordNotificationAttempts(db, writes);
  await db.transaction(async (trx) => {
    await recordNotificationAttempts(trx, writes);
    for (const w of writes) await w.follow?.(trx);
  });
}

/** Each outcome written on its own, as it comes (tests, and processes with little traffic). */
export function directOutcomes(db: Db): OutcomeRecorder {
  return { record: (write) => writeOutcomes(db, [write]), close: () => Promise.resolve() };
}

interface Waiting {
  write: OutcomeWrite;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function createOutcomeBatcher(db: Db, opts: OutcomeBatchOptions = {}): OutcomeRecorder {
  const maxBatch = opts.maxBatch ?? 100;
  const maxDelayMs = opts.maxDelayMs ?? 10;
  let batch: Waiting[] = [];
  let inBatch = new Set<string>();
  // Writes for a notification already in the batch: they go in the next one.
  let deferred: Waiting[] = [];
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const inFlight = new Set<Promise<void>>();

  const writeAlone = (w: Waiting) => writeOutcomes(db, [w.write]).then(w.resolve, w.reject);

  async function writeBatch(ws: Waiting[]): Promise<void> {
    try {
      await writeOutcomes(
        db,
        ws.map((w) => w.write),
      );
    } catch (err) {
      if (ws.length === 1) return ws[0]!.reject(err);
      await Promise.all(ws.map(writeAlone));
      return;
    }
    for (const w of ws) w.resolve();
  }

  function add(w: Waiting): void {
    if (inBatch.has(w.write.id)) {
      deferred.push(w);
      return;
    }
    batch.push(w);
    inBatch.add(w.write.id);
    if (batch.length >= maxBatch) flush();
    else timer ??= setTimeout(flush, maxDelayMs);
  }

  function flush(): void {
    clearTimeout(timer);
    timer = undefined;
    const ws = batch;
    batch = [];
    inBatch = new Set();
    if (ws.length) {
      const p = writeBatch(ws).finally(() => inFlight.delete(p));
      inFlight.add(p);
    }
    const next = deferred;
    deferred = [];
    for (const w of next) add(w);
  }

  return {
    record(write) {
      return new Promise<void>((resolve, reject) => {
        const w = { write, resolve, reject };
        if (closed) void writeAlone(w);
        else add(w);
      });
    },
    async close() {
      closed = true;
      while (batch.length || deferred.length) flush();
      while (inFlight.size) await Promise.all(inFlight);
    },
  };
}
