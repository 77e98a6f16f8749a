// Cloudflare Workers: the package bundled as wrangler would (bun build with the `workerd` export condition, .wasm
// imports left to the platform) runs in workerd on 127.0.0.1: the WASM kernel is loaded from the .wasm modules,
// and a bundle without the condition runs on the JS fallback; both give the answers Node gives (getters, batch,
// OFREP over HTTP). workerd comes from test/workerd (npm ci --prefix test/workerd, .ci/setup.d/15-workerd.sh).
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as saltshard from '../src/mod.ts';
import * as server from '../src/server.ts';
import { ROOT, freePort } from './support.ts';

const t = suite('workerd');
const WORKERD = join(ROOT, 'test', 'workerd', 'node_modules', '.bin', 'workerd');
const BUN = join(ROOT, 'node_modules', '.bin', 'bun');
const CONFIG_TEXT = readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8');
const work = mkdtempSync(join(tmpdir(), 'saltshard-workerd-'));
let child: ChildProcess | null = null;
let log = '';
const ports = { wasm: 0, js: 0 };
let skip: string | null = null;

function bundle(out: string, conditions: string[]): void {
  const args = ['build', 'worker.mjs', '--target', 'browser', '--format', 'esm', '--external', '@hono/node-server', '--external', '*.wasm', '--outfile', out];
  for (const c of conditions) args.push('--conditions', c);
  const r = spawnSync(BUN, args, { cwd: work, encoding: 'utf8' });
  assert.equal(r.status, 0, `bun build failed:\n${r.stdout}${r.stderr}`);
}

t.before(async () => {
  try {
    await setUp();
  } catch (err) {
    console.error(err);
    throw err;
  }
});

async function setUp(): Promise<void> {
  if (!existsSync(WORKERD)) {
    skip = 'SKIP workerd: test/workerd/node_modules/.bin/workerd not installed (npm ci --prefix test/workerd)';
    return;
  }
  if (!existsSync(join(ROOT, 'dist', 'src', 'workerd.js')) || !existsSync(join(ROOT, 'dist', 'src', 'wasm', 'simd.wasm'))) {
    skip = 'SKIP workerd: dist/ not built (npm run build)';
    return;
  }
  // A project with the package installed (linked to this repository's build), the worker and the shared answers.
  mkdirSync(join(work, 'node_modules'));
  symlinkSync(ROOT, join(work, 'node_modules', 'saltshard'), 'dir');
  copyFileSync(join(ROOT, 'test', 'fixtures', 'worker', 'worker.mjs'), join(work, 'worker.mjs'));
  copyFileSync(join(ROOT, 'test', 'fixtures', 'consumer', 'answers.mjs'), join(work, 'answers.mjs'));
  writeFileSync(join(work, 'flags.json'), CONFIG_TEXT);
  bundle('wasm/worker.js', ['workerd']);
  bundle('js/worker.js', []);
  ports.wasm = await freePort();
  ports.js = await freePort();
  // capnp embeds read files beside the config: the package's .wasm files, as a Worker deployment uploads them.
  const wasmDir = 'kernel';
  mkdirSync(join(work, wasmDir));
  for (const f of ['release.wasm', 'simd.wasm']) copyFileSync(join(work, 'node_modules', 'saltshard', 'dist', 'src', 'wasm', f), join(work, wasmDir, f));
  const worker = (dir: string, wasm: boolean) => `(
  modules = [
    (name = "worker.js", esModule = embed "${dir}/worker.js"),
    ${wasm ? `(name = "wasm/release.wasm", wasm = embed "${wasmDir}/release.wasm"),
    (name = "wasm/simd.wasm", wasm = embed "${wasmDir}/simd.wasm"),` : ''}
  ],
  bindings = [ (name = "FLAGS", text = embed "flags.json") ],
  compatibilityDate = "2025-01-01",
)`;
  writeFileSync(join(work, 'config.capnp'), `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [ (name = "wasm", worker = .wasmWorker), (name = "js", worker = .jsWorker) ],
  sockets = [
    (name = "wasm", address = "127.0.0.1:${ports.wasm}", http = (), service = "wasm"),
    (name = "js", address = "127.0.0.1:${ports.js}", http = (), service = "js"),
  ],
);
const wasmWorker :Workerd.Worker = ${worker('wasm', true)};
const jsWorker :Workerd.Worker = ${worker('js', false)};
`);
  child = spawn(WORKERD, ['serve', 'config.capnp'], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d) => (log += d));
  child.stderr!.on('data', (d) => (log += d));
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${ports.js}/healthz`);
      await res.arrayBuffer();
      break;
    } catch {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`workerd did not start:\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

t.after(() => {
  child?.kill('SIGTERM');
  rmSync(work, { recursive: true, force: true });
});

async function expected() {
  const { answers } = await import(pathToFileURL(join(ROOT, 'test', 'fixtures', 'consumer', 'answers.mjs')).href);
  return JSON.parse(JSON.stringify(await answers(saltshard, server, null, CONFIG_TEXT)));
}

for (const [name, kernel] of [['wasm', 'wasm'], ['js', 'js']] as const) {
  t(`the ${name === 'wasm' ? '`workerd` condition: WASM kernel from .wasm modules' : 'default entry: JS fallback kernel'}; getters, batch and OFREP give Node's answers`, async () => {
    if (skip) return void console.log(skip);
    const res = await fetch(`http://127.0.0.1:${ports[name]}/answers`);
    const body = await res.json() as { kernel: string; answers: unknown };
    assert.equal(res.status, 200, JSON.stringify(body));
    assert.equal(body.kernel, kernel, log);
    assert.deepEqual(body.answers, await expected());
  });
}

t('OFREP over HTTP from workerd (`export default` fetch handler) answers as the app does on this runtime', async () => {
  if (skip) return void console.log(skip);
  const app = server.createApp({ client: saltshard.offlineInit({ flagsConfiguration: CONFIG_TEXT }) });
  const requests: [string, unknown][] = [
    ['/ofrep/v1/evaluate/flags/checkout-redesign', { context: { targetingKey: 'user-1', country: 'US' } }],
    ['/ofrep/v1/evaluate/flags/results-per-page', { context: { targetingKey: 'user-2', sessions: 240 } }],
    ['/ofrep/v1/evaluate/flags/no-such-flag', { context: { targetingKey: 'user-2' } }],
    ['/ofrep/v1/evaluate/flags', { context: { targetingKey: 'user-3', country: 'DE', appVersion: '3.0.0' } }],
  ];
  for (const [path, body] of requests) {
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    const local = await app.fetch(new Request(`http://localhost${path}`, init));
    const want = { status: local.status, body: await local.json() };
    for (const port of [ports.wasm, ports.js]) {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, init);
      assert.deepEqual({ status: res.status, body: await res.json() }, want, `${path} on port ${port}`);
    }
  }
});

t.run();
