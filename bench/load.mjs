#!/usr/bin/env node
// Load test of `saltshard serve` under Bun, Deno and Node: each runtime serves a 20-flag config (the example
// flags cloned) as a child process on 127.0.0.1, and autocannon (programmatic API) drives it for ~10 s per case:
// single OFREP evaluations and bulk OFREP evaluations of all 20 flags, with a distinct subject per request.
// Prints a markdown table: req/s, p50 and p99 latency, non-2xx and errors.
// Usage: node bench/load.mjs [--duration 10] [--connections 32] [--runtime node|bun|deno ...]
// Needs a build (npm run build) for Node. Access logging is off (--quiet) to measure the server, not stdout.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let duration = 10;
let connections = 32;
const runtimes = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--duration') duration = Number(args[++i]);
  else if (args[i] === '--connections') connections = Number(args[++i]);
  else if (args[i] === '--runtime') runtimes.push(args[++i]);
}
if (runtimes.length === 0) runtimes.push('bun', 'deno', 'node');

// 20 flags: the 6 example flags, cloned with new keys (the disabled one re-enabled).
const example = JSON.parse(readFileSync(join(root, 'examples', 'flags.json'), 'utf8'));
const base = Object.entries(example.flags).map(([k, f]) => [k, { ...f, enabled: true }]);
const flags = {};
for (let i = 0; i < 20; i++) {
  const [key, flag] = base[i % base.length];
  const k = i < base.length ? key : `${key}-${i}`;
  flags[k] = { ...flag, key: k };
}
const dir = mkdtempSync(join(tmpdir(), 'saltshard-load-'));
const configPath = join(dir, 'flags-20.json');
writeFileSync(configPath, JSON.stringify({ ...example, flags }));

const bin = (name) => join(root, 'node_modules', '.bin', name);
const commands = {
  node: [process.execPath, [join(root, 'bin', 'saltshard')]],
  bun: [bin('bun'), [join(root, 'src', 'bin.ts')]],
  deno: [bin('deno'), ['run', '-A', '--no-lock', join(root, 'src', 'bin.ts')]],
};

function startServer(runtime) {
  const [cmd, pre] = commands[runtime];
  const child = spawn(cmd, [...pre, 'serve', '--port', '0', '--host', '127.0.0.1', '--config', configPath, '--quiet'], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${runtime}: server did not start: ${err}`)), 20_000);
    child.stderr.on('data', (d) => {
      err += d;
      const m = /on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.once('exit', (code) => reject(new Error(`${runtime}: server exited (${code}): ${err}`)));
  });
}

function stopServer(child) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

const countries = ['US', 'FR', 'DE', 'JP', 'BR'];
function contextBody(i) {
  return JSON.stringify({ context: { targetingKey: `user-${i}`, country: countries[i % countries.length], sessions: i % 300, appVersion: `2.${i % 10}.0` } });
}

function run(port, path, seconds) {
  let i = 0;
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: seconds,
    requests: [{ method: 'POST', path, headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: contextBody(i++) }) }],
  });
}

const cases = [
  ['single OFREP evaluation', '/ofrep/v1/evaluate/flags/checkout-redesign'],
  ['bulk OFREP, 20 flags', '/ofrep/v1/evaluate/flags'],
];
const rows = [];
try {
  for (const runtime of runtimes) {
    const { child, port } = await startServer(runtime);
    try {
      for (const [name, path] of cases) {
        await run(port, path, 2); // warm-up (JIT, connections)
        const r = await run(port, path, duration);
        rows.push({ runtime, name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors + r.timeouts });
        console.error(`${runtime} ${name}: ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`);
      }
    } finally {
      await stopServer(child);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const versions = { node: process.version };
const table = [
  `### saltshard serve under load (${new Date().toISOString().slice(0, 10)}; ${duration} s per case, ${connections} connections, autocannon on the same host, ${cpus().length} CPUs: ${cpus()[0]?.model ?? '?'})`,
  '',
  '| Runtime | Case | req/s | p50 (ms) | p99 (ms) | non-2xx | errors |',
  '|---|---|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.runtime} | ${r.name} | ${Math.round(r.rps).toLocaleString('en-US')} | ${ms(r.p50)} | ${ms(r.p99)} | ${r.non2xx} | ${r.errors} |`),
  '',
  `Client: Node ${versions.node}. Config: 20 flags (examples/flags.json cloned). Distinct subject per request. Access log off.`,
  'Goal from the issue: ≥ 25k req/s on Bun with p99 ≤ 5 ms (anchors: a Hono app over Eppo\'s official evaluator did 5.5k Node, 11.7k Bun, 10.6k Deno with wrk -c10).',
];
console.log(`\n${table.join('\n')}`);
// bench/run.mjs folds this into BENCHMARKS.md.
writeFileSync(new URL('./load-results.md', import.meta.url), `${table.join('\n')}\n`);

/** autocannon reports whole milliseconds. */
function ms(value) {
  return value === 0 ? '<1' : String(value);
}
