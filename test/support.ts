// Shared test helpers: where the repo and Eppo's public sdk-test-data live.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import process from 'node:process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (works from test/*.ts and from dist/test/*.js). */
export const ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || existsSync(join(dir, '..', 'package.json')) && dir.endsWith('dist')) dir = dirname(dir);
  return dir;
})();

/** sdk-test-data: $SALTSHARD_TEST_DATA, else ../shared/sdk-test-data beside the repo. */
export const TEST_DATA: string = resolve(ROOT, process.env.SALTSHARD_TEST_DATA ?? '../shared/sdk-test-data');

/** True when the conformance data is present; otherwise prints why tests are skipped. */
export function hasTestData(what: string): boolean {
  if (existsSync(join(TEST_DATA, 'ufc', 'flags-v1.json'))) return true;
  console.log(`SKIP ${what}: Eppo's sdk-test-data not found at ${TEST_DATA}; clone github.com/Eppo-exp/sdk-test-data there or set SALTSHARD_TEST_DATA`);
  return false;
}

export function readText(...parts: string[]): string {
  return readFileSync(join(...parts), 'utf8');
}

export function readJson<T = unknown>(...parts: string[]): T {
  return JSON.parse(readText(...parts)) as T;
}

export function listJson(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
}

/** A TCP port free on 127.0.0.1 right now, for a server started by a test in another process. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Runs the saltshard CLI on this runtime: Node through bin/saltshard (compiled), Bun and Deno from source. */
export function runCli(args: string[], env: Record<string, string> = {}): { code: number | null; stdout: string; stderr: string } {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  const argv = g.Deno ? ['run', '-A', '--no-lock', join(ROOT, 'src', 'bin.ts'), ...args] : g.Bun ? [join(ROOT, 'src', 'bin.ts'), ...args] : [join(ROOT, 'bin', 'saltshard'), ...args];
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8', cwd: ROOT, maxBuffer: 256 << 20, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
