// Calls of concurrent jobs gathered into one: each job asks for its own item, and the items asked within
// `maxDelayMs` of each other (or `maxBatch` of them) go to the database in one statement. Under load this is what
// keeps a dispatch job's reads and claims from queueing for the pool's few connections one statement at a time;
// alone, a job waits at most `maxDelayMs` more. A batch that fails is run again one item at a time, so only the item
// that really fails reports it (to its own job).

export interface MicroBatchOptions {
  /** Items per call at most; a full batch runs at once (100). */
  maxBatch?: number;
  /**
   * How long the first item of a batch waits for others (5 ms). Against a dispatch job's ~50 ms it costs little, and
   * at 2 ms batches under load were half as large: twice the statements, each planned anew (bench/dispatch.ts).
   */
  maxDelayMs?: number;
}

interface Asked<I, O> {
  item: I;
  resolve: (out: O) => void;
  reject: (err: unknown) => void;
}

/** `run` answers one output per item, in the items' order. */
export function microBatch<I, O>(
  run: (items: I[]) => Promise<O[]>,
  opts: MicroBatchOptions = {},
): (item: I) => Promise<O> {
  const maxBatch = opts.maxBatch ?? 100;
  const maxDelayMs = opts.maxDelayMs ?? 5;
  let batch: Asked<I, O>[] = [];
  let timer: NodeJS.Timeout | undefined;

  async function runAlone(a: Asked<I, O>): Promise<void> {
    try {
      const [out] = await run([a.item]);
      a.resolve(out as O);
    } catch (err) {
      a.reject(err);
    }
  }

  async function runBatch(asked: Asked<I, O>[]): Promise<void> {
    let outs: O[];
    try {
      outs = await run(asked.map((a) => a.item));
    } catch (err) {
      if (asked.length === 1) return asked[0]!.reject(err);
      await Promise.all(asked.map(runAlone));
      return;
    }
    asked.forEach((a, i) => a.resolve(outs[i] as O));
  }

  function flush(): void {
    clearTimeout(timer);
    timer = undefined;
    const asked = batch;
    batch = [];
    if (asked.length) void runBatch(asked);
  }

  return (item) =>
    new Promise<O>((resolve, reject) => {
      batch.push({ item, resolve, reject });
      if (batch.length >= maxBatch) flush();
      else timer ??= setTimeout(flush, maxDelayMs);
    });
}
