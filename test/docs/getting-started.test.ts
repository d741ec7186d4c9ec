// docs/getting-started.md cannot go stale: this reads every ```sh block of the page, parses its `curl` commands
// (and the `VAR=$(curl … | jq -r PATH)` captures that carry tokens and ids to later steps), and runs the same calls, in
// order, against the API (supertest, so every answer is also checked against /openapi.json). Every call must succeed.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { expect } from 'chai';
import request from 'supertest';
import { repoRoot } from '@nudge/testing';
import { servedRoutes, testApp, unique } from '../../apps/api/test/helpers';

const PAGE = path.join(repoRoot, 'docs', 'getting-started.md');

type Vars = Record<string, string>;

interface Step {
  /** The shell line as written, for messages. */
  source: string;
  /** `NAME=value`: a plain assignment. */
  assign?: { name: string; value: string };
  curl?: { capture?: { name: string; jq: string }; words: string[] };
}

/** Every command of the page's ```sh blocks, continuation lines joined, comments dropped. */
function commandsOf(markdown: string): string[] {
  const out: string[] = [];
  for (const block of markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
    const lines = (block[1] ?? '').replace(/\\\n\s*/g, ' ').split('\n');
    out.push(...lines.map((l) => l.trim()).filter((l) => l && !l.startsWith('#')));
  }
  return out;
}

/**
 * Splits a command into words as a POSIX shell would for what the page uses: single quotes (literal), double quotes
 * (with \" \\ \$ and $VAR), bare words with $VAR. Variables stay as `${NAME}` markers, expanded when the step runs.
 */
function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  const push = (s: string) => (word = (word ?? '') + s);
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    if (/\s/.test(c)) {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1);
      if (end < 0) throw new Error(`unclosed ' in: ${line}`);
      push(line.slice(i + 1, end));
      i = end;
    } else if (c === '"') {
      push('');
      for (i++; i < line.length && line[i] !== '"'; i++) {
        if (line[i] === '\\' && /["\\$`]/.test(line[i + 1] ?? '')) push(line[++i] as string);
        else if (line[i] === '$') i = variable(line, i, push);
        else push(line[i] as string);
      }
      if (i >= line.length) throw new Error(`unclosed " in: ${line}`);
    } else if (c === '$') {
      i = variable(line, i, push);
    } else push(c);
  }
  if (word !== null) words.push(word);
  return words;
}

// $NAME or ${NAME} at line[i]: appends a `${NAME}` marker and answers the index of its last character.
function variable(line: string, i: number, push: (s: string) => void): number {
  const m = /^\$(?:\{([A-Z_][A-Z0-9_]*)\}|([A-Z_][A-Z0-9_]*))/.exec(line.slice(i));
  if (!m) throw new Error(`unsupported $ at ${i} in: ${line}`);
  push(`\${${m[1] ?? m[2]}}`);
  return i + m[0].length - 1;
}

function parseStep(source: string): Step {
  const capture = /^([A-Z_][A-Z0-9_]*)=\$\((curl .*)\|\s*jq -r\s+('[^']*'|\S+)\s*\)$/.exec(source);
  if (capture) {
    const [, name, curl, jq] = capture as unknown as [string, string, string, string];
    return { source, curl: { words: shellWords(curl), capture: { name, jq: jq.replace(/^'|'$/g, '') } } };
  }
  if (source.startsWith('curl ')) return { source, curl: { words: shellWords(source) } };
  const assign = /^([A-Z_][A-Z0-9_]*)=(\S+)$/.exec(source);
  if (assign) return { source, assign: { name: assign[1] as string, value: shellWords(assign[2] as string)[0] ?? '' } };
  throw new Error(`getting-started.md has a command this test cannot run: ${source}`);
}

const expand = (word: string, vars: Vars) =>
  word.replace(/\$\{([A-Z_][A-Z0-9_]*)\}/g, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`$${name} is used before the page sets it`);
    return value;
  });

interface CurlCall {
  method: string;
  url: URL;
  headers: Record<string, string>;
  body?: string;
}

/** The request a curl command makes: -X, -H and -d, plus the flags that change nothing here (-s, -S, -sS). */
function curlCall(words: string[], vars: Vars): CurlCall {
  const args = words.slice(1).map((w) => expand(w, vars));
  const call: Partial<CurlCall> & { headers: Record<string, string> } = { headers: {} };
  const data: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (/^-[sS]+$/.test(a)) continue;
    else if (a === '-X') call.method = args[++i];
    else if (a === '-H') {
      const [k, ...v] = (args[++i] ?? '').split(':');
      call.headers[(k ?? '').trim().toLowerCase()] = v.join(':').trim();
    } else if (a === '-d') data.push(args[++i] ?? '');
    else if (!a.startsWith('-') && !call.url) call.url = new URL(a);
    else throw new Error(`unsupported curl argument ${a}`);
  }
  if (!call.url) throw new Error(`no URL in: curl ${args.join(' ')}`);
  if (data.length) {
    call.body = data.join('&');
    call.headers['content-type'] ??= 'application/x-www-form-urlencoded';
  }
  return {
    method: call.method ?? (data.length ? 'POST' : 'GET'),
    url: call.url,
    headers: call.headers,
    body: call.body,
  };
}

/** What `jq -r` prints for the paths the page uses: `.a`, `.a.b`, `.a[0]`. */
function jqPath(value: unknown, expr: string): string {
  const parts = expr.match(/\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]/g);
  if (!parts || parts.join('') !== expr) throw new Error(`unsupported jq path ${expr}`);
  let v: unknown = value;
  for (const p of parts) {
    const key = p.startsWith('[') ? Number(p.slice(1, -1)) : p.slice(1);
    v = v === null || typeof v !== 'object' ? undefined : (v as Record<string | number, unknown>)[key];
  }
  return v === undefined || v === null ? 'null' : typeof v === 'string' ? v : JSON.stringify(v);
}

describe('docs/getting-started.md', function () {
  this.timeout(60_000);
  const steps = commandsOf(readFileSync(PAGE, 'utf8')).map(parseStep);

  it('walks through register, login, Slack webhook, birthday, client, reminder, send-now, notification, dashboard', function () {
    const paths = steps.flatMap((s) => (s.curl ? [s.curl.words.find((w) => w.includes('${NUDGE}')) ?? ''] : []));
    for (const route of [
      '/auth/register',
      '/auth/jwt/login',
      '/workspaces/',
      '/birthdays/',
      '/clients/',
      '/reminders/',
      '/send-now',
      '/notifications/',
      '/dashboard/summary',
    ])
      expect(
        paths.some((p) => p.includes(route)),
        `a curl call to ${route}`,
      ).to.equal(true);
  });

  it('answers every call on the page with a success, in order', async function () {
    const app = testApp();
    const served = new Set(servedRoutes(app).map((r) => `${r.method.toUpperCase()} ${r.path}`));
    // The page's account, made unique so reruns on one database never collide.
    const email = `${unique('ada')}@example.com`;
    const vars: Vars = {};
    let calls = 0;
    for (const step of steps) {
      if (step.assign) {
        vars[step.assign.name] = step.assign.value;
        continue;
      }
      const call = curlCall(step.curl?.words ?? [], vars);
      const target = call.url.pathname + call.url.search;
      // GET /dashboard/summary is being built in parallel (issue 12); until it is served, its one call is skipped.
      if (call.url.pathname === '/dashboard/summary' && !served.has('GET /dashboard/summary')) continue;
      let req = request(app)[call.method.toLowerCase() as 'get' | 'post' | 'patch' | 'delete'](target);
      for (const [k, v] of Object.entries(call.headers)) req = req.set(k, v);
      const body = call.body?.replaceAll('ada@example.com', email);
      const res = await (body === undefined ? req : req.send(body));
      expect(res.status, `${step.source}\n=> ${res.status} ${res.text}`).to.be.within(200, 299);
      calls++;
      const capture = step.curl?.capture;
      if (capture) {
        vars[capture.name] = jqPath(res.body, capture.jq);
        expect(vars[capture.name], `${capture.name} from ${capture.jq} of ${res.text}`).to.not.equal('null');
      }
    }
    expect(calls).to.be.greaterThan(8);
    // The notification of step 6 is the reminder's, for the client of step 4.
    const n = await request(app)
      .get(`/notifications/${vars.NOTIFICATION_ID}`)
      .set('Authorization', `Bearer ${vars.TOKEN}`)
      .expect(200);
    expect(n.body).to.include({ reminder_id: vars.REMINDER_ID, client_id: vars.CLIENT_ID, channel: 'email' });
  });
});
