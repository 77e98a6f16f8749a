// Starting a helper script of test/ in a child process of the runtime running the test (Node runs the compiled copy).
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './support.ts';

/** The command and arguments running test/<name>.ts on this runtime. */
export function scriptArgs(name: string, args: string[] = []): [string, string[]] {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Deno) return [process.execPath, ['run', '-A', '--no-lock', join(ROOT, 'test', `${name}.ts`), ...args]];
  if (g.Bun) return [process.execPath, [join(ROOT, 'test', `${name}.ts`), ...args]];
  return [process.execPath, [join(ROOT, 'dist', 'test', `${name}.js`), ...args]];
}

/** A child running test/<name>.ts, with its output collected. */
export function startScript(name: string, args: string[] = [], options: SpawnOptions = {}): { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> } {
  const [cmd, argv] = scriptArgs(name, args);
  const child = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], ...options });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => void (out += d));
  child.stderr!.on('data', (d) => void (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, out: () => out, err: () => err, exited };
}
