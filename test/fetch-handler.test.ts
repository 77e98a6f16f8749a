// The fetch-handler form of the server (`export default app`): `deno serve` (as Deno Deploy runs it) and `bun run`
// serve the module's default export; OFREP over HTTP answers as createApp does in process.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import process from 'node:process';
import { offlineInit } from '../src/mod.ts';
import { createApp } from '../src/server.ts';
import { ROOT, freePort } from './support.ts';

const t = suite('fetch-handler');
const FIXTURES = join(ROOT, 'test', 'fixtures', 'worker');

async function check(cmd: string, args: string[], port: number): Promise<void> {
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, PORT: String(port), NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stdout.on('data', (d) => (log += d));
  child.stderr.on('data', (d) => (log += d));
  try {
    const app = createApp({ client: offlineInit({ flagsConfiguration: readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8') }) });
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ context: { targetingKey: 'user-2', country: 'FR', sessions: 240 } }) };
    const deadline = Date.now() + 30_000;
    for (const path of ['/ofrep/v1/evaluate/flags/results-per-page', '/ofrep/v1/evaluate/flags']) {
      const local = await app.fetch(new Request(`http://localhost${path}`, init));
      const want = { status: local.status, body: await local.json() };
      for (;;) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
          assert.deepEqual({ status: res.status, body: await res.json() }, want, `${cmd} ${path}`);
          break;
        } catch (err) {
          if (err instanceof assert.AssertionError) throw err;
          if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${args.join(' ')} did not serve:\n${log}`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
  } finally {
    child.kill('SIGTERM');
  }
}

t('deno serve: export default app (the Deno Deploy form)', async () => {
  const port = await freePort();
  await check(join(ROOT, 'node_modules', '.bin', 'deno'), ['serve', '--no-lock', '-A', '--host', '127.0.0.1', '--port', String(port), join(FIXTURES, 'serve-default.ts')], port);
});

t('bun run: a default export with fetch', async () => {
  const port = await freePort();
  await check(join(ROOT, 'node_modules', '.bin', 'bun'), ['run', join(FIXTURES, 'serve-default-bun.ts')], port);
});

t.run();
