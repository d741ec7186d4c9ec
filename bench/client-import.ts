// Client import throughput: 100,000 rows through the real route, POST /clients/import with text/csv, in chunks of
// 10,000 (the most one request takes), each chunk one transaction: CSV parsing, the joi check of every row,
// libphonenumber normalisation, encryption and keyed hashes of two numbers a row, and the multi-row upsert. Then the
// same file again (every row an update). The ceiling is a bare multi-row INSERT of the same rows with knex (plaintext,
// no checks, chunks of 1,000) into another workspace. Prints one JSON object.
//
//   npx tsx bench/client-import.ts [--rows=100000]      (at most 200,000)
import crypto from 'node:crypto';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import { getDb } from '@nudge/db';
import { startApi, intOption, printResult } from './support';

const ROWS = intOption('rows', 100_000, 200_000);
const CHUNK = 10_000;

/**
 * CPU time (µs, user + system) used so far by each PostgreSQL backend serving this database, by pid; null when the
 * server is not on this machine (its processes' /proc entries unreadable). The import's other half: the bench
 * process's own CPU time leaves out the server's.
 */
async function pgBackendCpu(db: ReturnType<typeof getDb>): Promise<Map<number, number> | null> {
  const { rows } = await db.raw<{ rows: { pid: number }[] }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = current_database()',
  );
  const out = new Map<number, number>();
  for (const { pid } of rows) {
    let stat: string;
    try {
      stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return null;
    }
    // Fields after the parenthesised command name: utime and stime are the 12th and 13th, in ticks of 1/100 s.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(pid, (Number(f[11]) + Number(f[12])) * 10_000);
  }
  return out;
}

/** The CPU time the backends used between two readings, in µs. */
function pgCpuBetween(before: Map<number, number> | null, after: Map<number, number> | null): number | null {
  if (!before || !after) return null;
  let used = 0;
  for (const [pid, us] of after) used += us - (before.get(pid) ?? 0);
  return used;
}

const rowsOf = (tag: string) =>
  Array.from({ length: ROWS }, (_, i) => {
    const n = String(i % 100_000).padStart(5, '0');
    return {
      name: `Client ${i}`,
      email: `client${i}-${tag}@example.com`,
      phone: `+44 7911 1${n}`,
      whatsapp: `+44 7911 1${n}`,
      external_ref: `${tag}-${i}`,
      notes: 'Imported by the bench',
    };
  });

async function main(): Promise<void> {
  const api = await startApi();
  const db = getDb();
  const tag = crypto.randomBytes(4).toString('hex');
  const [ws, ceilingWs] = await db('workspaces')
    .insert([{ name: `bench-import-${tag}` }, { name: `bench-import-ceiling-${tag}` }])
    .returning<{ id: string }[]>('id');
  try {
    await db('users').where({ id: api.user.id }).update({ workspace_id: ws?.id, role: 'owner' });
    const login = await fetch(`${api.url}/auth/jwt/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ username: api.user.email, password: 'bench-password-1' }),
    });
    const token = ((await login.json()) as { access_token: string }).access_token;

    const rows = rowsOf(tag);
    const header = 'name,email,phone,whatsapp,external_ref,notes';
    const chunks: string[] = [];
    for (let i = 0; i < rows.length; i += CHUNK)
      chunks.push(
        [
          header,
          ...rows
            .slice(i, i + CHUNK)
            .map((r) => [r.name, r.email, r.phone, r.whatsapp, r.external_ref, r.notes].join(',')),
        ].join('\n'),
      );

    const pass = async (): Promise<{
      seconds: number;
      cpuUsPerRow: number;
      pgCpuUsPerRow: number | null;
      imported: number;
      updated: number;
      failed: number;
    }> => {
      let imported = 0;
      let updated = 0;
      let failed = 0;
      const started = performance.now();
      const cpu = process.cpuUsage();
      const pgBefore = await pgBackendCpu(db);
      for (const body of chunks) {
        const res = await fetch(`${api.url}/clients/import`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'text/csv' },
          body,
        });
        if (res.status !== 200) throw new Error(`import answered ${res.status}: ${await res.text()}`);
        const out = (await res.json()) as { imported_count: number; updated_count: number; failed_count: number };
        imported += out.imported_count;
        updated += out.updated_count;
        failed += out.failed_count;
      }
      const used = process.cpuUsage(cpu);
      const pgUsed = pgCpuBetween(pgBefore, await pgBackendCpu(db));
      return {
        seconds: (performance.now() - started) / 1000,
        cpuUsPerRow: Math.round((used.user + used.system) / ROWS),
        pgCpuUsPerRow: pgUsed === null ? null : Math.round(pgUsed / ROWS),
        imported,
        updated,
        failed,
      };
    };

    const loadBefore = os.loadavg()[0] ?? 0;
    const insertPass = await pass();
    const updatePass = await pass();

    const started = performance.now();
    const ceilingPgBefore = await pgBackendCpu(db);
    for (let i = 0; i < rows.length; i += 1000)
      await db('clients').insert(
        rows.slice(i, i + 1000).map((r) => ({ ...r, workspace_id: ceilingWs?.id, timezone: 'UTC' })),
      );
    const ceilingSeconds = (performance.now() - started) / 1000;
    const ceilingPgCpu = pgCpuBetween(ceilingPgBefore, await pgBackendCpu(db));

    const rate = (s: number) => Math.round(ROWS / s);
    const insertRate = rate(insertPass.seconds);
    const insertVsCeiling = Math.round((ceilingSeconds / insertPass.seconds) * 100) / 100;
    printResult({
      bench: 'client-import',
      via: 'POST /clients/import, text/csv, 10,000 rows a request',
      rows: ROWS,
      imported: insertPass.imported,
      failed: insertPass.failed,
      insert_seconds: Math.round(insertPass.seconds * 100) / 100,
      insert_rows_per_second: insertRate,
      update_rows_per_second: rate(updatePass.seconds),
      updated: updatePass.updated,
      ceiling: 'bare knex multi-row INSERT of the same rows, 1,000 a statement, no checks or encryption',
      ceiling_rows_per_second: rate(ceilingSeconds),
      insert_vs_ceiling: insertVsCeiling,
      target_rows_per_second: 20_000,
      // CPU time of this process (the API and the bench's client, every thread) per row: what the import costs,
      // less dependent on the other work the machine is doing than the rates.
      insert_cpu_us_per_row: insertPass.cpuUsPerRow,
      update_cpu_us_per_row: updatePass.cpuUsPerRow,
      // The same for PostgreSQL's backends (10 ms ticks; null when the server is elsewhere). On 2 cores, 20,000
      // rows a second leaves the two together about 100 µs a row.
      insert_pg_cpu_us_per_row: insertPass.pgCpuUsPerRow,
      update_pg_cpu_us_per_row: updatePass.pgCpuUsPerRow,
      ceiling_pg_cpu_us_per_row: ceilingPgCpu === null ? null : Math.round(ceilingPgCpu / ROWS),
      cores: os.availableParallelism(),
      load_average_1m: [Math.round(loadBefore * 10) / 10, Math.round((os.loadavg()[0] ?? 0) * 10) / 10],
      headlines: [
        {
          metric: `POST /clients/import, ${ROWS.toLocaleString('en-US')} rows inserted, vs bare INSERT`,
          value: insertRate,
          unit: 'rows/s',
          ceiling: rate(ceilingSeconds),
          ratio: insertVsCeiling,
          target: '≥ 20,000 rows/s',
          meets_target: insertRate >= 20_000,
        },
      ],
    });
  } finally {
    // The clients first, a slice at a time: one cascading delete of 200,000 rows can outlast the statement timeout.
    for (const id of [ws?.id, ceilingWs?.id]) {
      if (!id) continue;
      while (
        (await db('clients')
          .whereIn('id', db('clients').select('id').where({ workspace_id: id }).limit(5000))
          .delete()) > 0
      );
    }
    await db('workspaces')
      .whereIn('id', [ws?.id, ceilingWs?.id].filter(Boolean) as string[])
      .delete();
    await api.shutdown();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
