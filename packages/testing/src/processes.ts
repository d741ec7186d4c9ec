// Runs an entry point as a real child process, TypeScript through tsx or a built bundle as is, and collects its
// output.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

export interface Spawned {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `node <args>` from the repository root, with nothing but `env` (no loader unless args name one). */
export function spawnNode(args: string[], env: Record<string, string | undefined>): Spawned {
  const child = spawn(process.execPath, args, { cwd: repoRoot, env: env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

export function spawnTs(entry: string, env: Record<string, string | undefined>, args: string[] = []): Spawned {
  return spawnNode(['--import', 'tsx', path.join(repoRoot, entry), ...args], env);
}
