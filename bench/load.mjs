#!/usr/bin/env node
// Load test of `saltshard serve` under Bun, Deno and Node: each runtime serves a 20-flag config (the example
// flags cloned) as a child process on 127.0.0.1, and autocannon (programmatic API) drives it for ~10 s per case:
// single OFREP evaluations and bulk OFREP evaluations of all 20 flags, with a distinct subject per request.
// Side by side, on the same runtime: a ~60-line Hono app answering OFREP with Eppo's own evaluator
// (@eppo/node-server-sdk, initialised from an in-process config server) — this file run with --serve-eppo — and,
// with --before DIR, `saltshard serve` from another checkout (a before/after of a change).
// --flood: three 10 s floods of 50 connections on the OFREP route per runtime, /healthz probed every 50 ms meanwhile,
// and the server's RSS before, after each flood and 10 s after the last.
// Two load generators, each case run by both: autocannon (the client of the issue's figures; a Node process that
// tops out near 50k req/s here with a fresh body per request, so a faster server stops showing in its req/s) and
// wrk (C, one thread, the same bodies from a Lua script: the server, not the client, is then the limit). Server CPU
// per request is measured either way.
// Prints a markdown table: req/s, p50 and p99 latency, non-2xx and errors.
// Usage: node bench/load.mjs [--duration 10] [--rounds 3] [--connections 10] [--runtime node|bun|deno ...] [--client autocannon|wrk ...] [--before DIR] [--flood] [--single-only]
// Needs a build (npm run build) for Node. Access logging is off (--quiet) to measure the server, not stdout.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
if (args[0] === '--serve-eppo') await serveEppo(args[1]);
else await main();

/** The baseline: Hono answering OFREP single-flag requests with Eppo's evaluator, on the runtime's own server. */
async function serveEppo(configPath) {
  const { Hono } = await import('hono');
  const { init } = await import('@eppo/node-server-sdk');
  const text = readFileSync(configPath, 'utf8');
  const upstream = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(text));
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const client = await init({ apiKey: 'bench', baseUrl: `http://127.0.0.1:${upstream.address().port}/api`, assignmentLogger: { logAssignment() {} } });
  const getters = { STRING: 'getStringAssignmentDetails', BOOLEAN: 'getBooleanAssignmentDetails', INTEGER: 'getIntegerAssignmentDetails', NUMERIC: 'getNumericAssignmentDetails', JSON: 'getJSONAssignmentDetails' };
  const app = new Hono();
  app.post('/ofrep/v1/evaluate/flags/:key', async (c) => {
    const key = c.req.param('key');
    let body;
    try {
      body = await c.req.json();
    } catch {
      return c.json({ key, errorCode: 'PARSE_ERROR', errorDetails: 'request body is not valid JSON' }, 400);
    }
    const { targetingKey, ...attributes } = body?.context ?? {};
    if (typeof targetingKey !== 'string' || targetingKey === '') return c.json({ key, errorCode: 'TARGETING_KEY_MISSING' }, 400);
    const flag = client.getFlagConfigurations()[key];
    if (flag === undefined) return c.json({ key, errorCode: 'FLAG_NOT_FOUND' }, 404);
    const r = client[getters[flag.variationType]](key, targetingKey, attributes, null);
    const d = r.evaluationDetails;
    if (d.flagEvaluationCode !== 'MATCH') return c.json({ key, reason: flag.enabled ? 'DEFAULT' : 'DISABLED', metadata: { flagEvaluationCode: d.flagEvaluationCode } });
    return c.json({ key, value: r.variation, reason: d.matchedRule ? 'TARGETING_MATCH' : 'SPLIT', variant: d.variationKey, metadata: { allocationKey: d.matchedAllocation?.key, variationType: flag.variationType } });
  });
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  let port;
  if (globalThis.Bun) port = globalThis.Bun.serve({ port: 0, hostname: '127.0.0.1', fetch: app.fetch }).port;
  else if (globalThis.Deno) port = globalThis.Deno.serve({ port: 0, hostname: '127.0.0.1', onListen() {} }, app.fetch).addr.port;
  else {
    const { serve } = await import('@hono/node-server');
    port = await new Promise((resolve) => serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) => resolve(info.port)));
  }
  process.stderr.write(`eppo baseline on http://127.0.0.1:${port}\n`);
  process.on('SIGTERM', () => process.exit(0));
}

async function main() {
let duration = 10;
let connections = 10;
let before = null;
let flood = false;
let rounds = 3;
let singleOnly = false;
const runtimes = [];
const clients = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--duration') duration = Number(args[++i]);
  else if (args[i] === '--connections') connections = Number(args[++i]);
  else if (args[i] === '--runtime') runtimes.push(args[++i]);
  else if (args[i] === '--client') clients.push(args[++i]);
  else if (args[i] === '--before') before = args[++i];
  else if (args[i] === '--flood') flood = true;
  else if (args[i] === '--rounds') rounds = Number(args[++i]);
  else if (args[i] === '--single-only') singleOnly = true;
}
if (runtimes.length === 0) runtimes.push('bun', 'deno', 'node');
if (clients.length === 0) clients.push('autocannon', ...(spawnSync('wrk', ['--version']).error ? [] : ['wrk']));

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

const { default: autocannon } = await import('autocannon');
const bin = (name) => join(root, 'node_modules', '.bin', name);
/** How to start each server kind on each runtime: [command, args before the server's own]. */
function command(kind, runtime) {
  const base = kind === 'before' ? before : root;
  const entry = kind === 'eppo' ? [fileURLToPath(import.meta.url), '--serve-eppo', configPath] : [join(base, runtime === 'node' ? 'bin' : 'src', runtime === 'node' ? 'saltshard' : 'bin.ts'), 'serve', '--port', '0', '--host', '127.0.0.1', '--config', configPath, '--quiet'];
  if (runtime === 'node') return [process.execPath, entry];
  if (runtime === 'bun') return [bin('bun'), entry];
  return [bin('deno'), ['run', '-A', '--no-lock', ...entry]];
}

function startServer(kind, runtime) {
  const [cmd, argv] = command(kind, runtime);
  const child = spawn(cmd, argv, { cwd: kind === 'before' ? before : root, stdio: ['ignore', 'ignore', 'pipe'] });
  return new Promise((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`${kind} ${runtime}: server did not start: ${err}`)), 30_000);
    child.stderr.on('data', (d) => {
      err += d;
      const m = /on http:\/\/127\.0\.0\.1:(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]) });
      }
    });
    child.once('exit', (code) => reject(new Error(`${kind} ${runtime}: server exited (${code}): ${err}`)));
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

function run(port, path, seconds, conns = connections, client = 'autocannon') {
  if (client === 'wrk') return runWrk(port, path, seconds, conns);
  let i = 0;
  return autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: conns,
    duration: seconds,
    requests: [{ method: 'POST', path, headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: contextBody(i++) }) }],
  });
}

// wrk sends the bodies contextBody() makes (same subjects, countries, sessions and versions), one per request.
const wrkScript = join(dir, 'bodies.lua');
writeFileSync(wrkScript, `local countries = { ${countries.map((c) => `"${c}"`).join(', ')} }
local i = -1
local path = os.getenv("LOAD_PATH")
request = function()
  i = i + 1
  local body = '{"context":{"targetingKey":"user-' .. i .. '","country":"' .. countries[i % #countries + 1] .. '","sessions":' .. (i % 300) .. ',"appVersion":"2.' .. (i % 10) .. '.0"}}'
  return wrk.format("POST", path, { ["content-type"] = "application/json" }, body)
end
`);

/** One wrk run (1 thread), reported in autocannon's shape: requests.average/total, latency.p50/p99 (ms), non2xx, errors. */
function runWrk(port, path, seconds, conns) {
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', ['-t1', `-c${conns}`, `-d${seconds}s`, '--latency', '-s', wrkScript, `http://127.0.0.1:${port}`], { env: { ...process.env, LOAD_PATH: path }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => void (out += d));
    child.stderr.on('data', (d) => void (out += d));
    child.once('error', reject);
    child.once('exit', (code) => {
      const num = (re) => Number(re.exec(out)?.[1] ?? NaN);
      const latency = (p) => {
        const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s)\\b`).exec(out);
        return m ? Number(m[1]) * { us: 0.001, ms: 1, s: 1000 }[m[2]] : NaN;
      };
      const total = num(/(\d+) requests in/);
      if (code !== 0 || !Number.isFinite(total)) return reject(new Error(`wrk failed (${code}): ${out}`));
      const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      resolve({
        requests: { average: num(/Requests\/sec:\s+([\d.]+)/), total },
        latency: { p50: latency(50), p99: latency(99) },
        non2xx: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
        errors: socket ? Number(socket[1]) + Number(socket[2]) + Number(socket[3]) : 0,
        timeouts: socket ? Number(socket[4]) : 0,
      });
    });
  });
}

/** CPU seconds (user + system) used so far by a process and its descendants (Linux /proc; 100 ticks/s). */
function cpuSeconds(pid) {
  let ticks = 0;
  const visit = (p) => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
      for (const task of readdirSync(`/proc/${p}/task`)) {
        for (const child of readFileSync(`/proc/${p}/task/${task}/children`, 'utf8').split(' ').filter(Boolean)) visit(child);
      }
    } catch {
      // the process ended
    }
  };
  visit(pid);
  return ticks / 100;
}

/** The server's resident set, MiB (Linux). */
function rssMiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/** /healthz latencies (ms) probed every 50 ms on a fresh connection while `during` runs. */
async function probeHealth(port, during) {
  const latencies = [];
  let stop = false;
  const loop = (async () => {
    while (!stop) {
      const t0 = performance.now();
      try {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`, { headers: { connection: 'close' } });
        await res.text();
        latencies.push(performance.now() - t0);
      } catch {
        latencies.push(Infinity);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  const result = await during;
  stop = true;
  await loop;
  latencies.sort((a, b) => a - b);
  return { result, p50: latencies[Math.floor(latencies.length / 2)], p99: latencies[Math.floor(latencies.length * 0.99)], max: latencies[latencies.length - 1], n: latencies.length };
}

const SINGLE = '/ofrep/v1/evaluate/flags/checkout-redesign';
const kinds = ['saltshard', ...(before ? ['before'] : []), 'eppo'];
const label = { saltshard: 'saltshard', before: 'saltshard before', eppo: "Hono + Eppo's evaluator" };
const rows = [];
const floods = [];
const load = [];
try {
  for (const runtime of runtimes) {
    // Every server of this runtime runs at once (idle ones cost nothing); each round measures them in a rotated
    // order, and the table gives per-case medians, so a change in the machine's load hits all of them alike.
    const servers = [];
    try {
      for (const kind of kinds) servers.push({ kind, ...(await startServer(kind, runtime)) });
      const samples = new Map();
      for (let round = 0; round < rounds; round++) {
        for (let k = 0; k < servers.length; k++) {
          const { kind, port, child } = servers[(k + round) % servers.length];
          const cases = kind === 'eppo' || singleOnly ? [['single OFREP evaluation', SINGLE]] : [['single OFREP evaluation', SINGLE], ['bulk OFREP, 20 flags', '/ofrep/v1/evaluate/flags']];
          for (const client of clients) {
            for (const [name, path] of cases) {
              if (round === 0) await run(port, path, 2, connections, client); // warm-up (JIT, connections)
              load.push(loadavg()[0]);
              const cpu0 = cpuSeconds(child.pid);
              const r = await run(port, path, duration, connections, client);
              // Server CPU per 10k answered requests: less distorted by the machine's load than req/s.
              r.cpuPer10k = ((cpuSeconds(child.pid) - cpu0) * 10_000) / Math.max(1, r.requests.total);
              const key = `${kind}\t${name}\t${client}`;
              samples.set(key, [...(samples.get(key) ?? []), r]);
              console.error(`${runtime} round ${round + 1} ${client} ${label[kind]} ${name}: ${Math.round(r.requests.average)} req/s, p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, non-2xx ${r.non2xx}, server CPU ${r.cpuPer10k.toFixed(2)} s/10k req`);
            }
          }
        }
      }
      const clientOf = (key) => key.split('\t')[2];
      for (const [key, rs] of [...samples].sort(([a], [b]) => clientOf(a).localeCompare(clientOf(b)))) {
        const [kind, name, client] = key.split('\t');
        const med = (f) => rs.map(f).sort((x, y) => x - y)[Math.floor(rs.length / 2)];
        rows.push({ runtime, client, kind, server: label[kind], name, rps: med((r) => r.requests.average), best: Math.max(...rs.map((r) => r.requests.average)), p50: med((r) => r.latency.p50), p99: med((r) => r.latency.p99), cpu: med((r) => r.cpuPer10k), non2xx: rs.reduce((n, r) => n + r.non2xx, 0), errors: rs.reduce((n, r) => n + r.errors + r.timeouts, 0) });
      }
      const main = servers.find((x) => x.kind === 'saltshard');
      if (flood) {
        const { child, port } = main;
        const rss = [rssMiB(child.pid)];
        for (let f = 0; f < 3; f++) {
          const h = await probeHealth(port, run(port, SINGLE, 10, 50));
          rss.push(rssMiB(child.pid));
          floods.push({ runtime, flood: f + 1, rps: h.result.requests.average, p99: h.result.latency.p99, health: h });
          console.error(`${runtime} flood ${f + 1}: ${Math.round(h.result.requests.average)} req/s, p99 ${h.result.latency.p99} ms, /healthz p50 ${h.p50.toFixed(1)} max ${h.max.toFixed(1)} ms, RSS ${rss.at(-1)} MiB`);
        }
        await new Promise((r) => setTimeout(r, 10_000));
        rss.push(rssMiB(child.pid));
        floods.at(-1).rss = rss;
      }
    } finally {
      for (const { child } of servers) await stopServer(child);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const table = [
  `### saltshard serve under load (${new Date().toISOString().slice(0, 10)}; median of ${rounds} rounds of ${duration} s per case (servers of a runtime measured in rotating order), ${connections} connections, ${clients.join(' and ')} on the same host, ${cpus().length} CPUs: ${cpus()[0]?.model ?? '?'}; 1-min load average during the cases ${Math.min(...load).toFixed(1)}–${Math.max(...load).toFixed(1)})`,
  '',
  '| Runtime | Client | Server | Case | req/s | p50 (ms) | p99 (ms) | server CPU s / 10k req | non-2xx | errors |',
  '|---|---|---|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.runtime} | ${r.client} | ${r.server} | ${r.name} | ${Math.round(r.rps).toLocaleString('en-US')} | ${ms(r.p50)} | ${ms(r.p99)} | ${r.cpu.toFixed(2)} | ${r.non2xx} | ${r.errors} |`),
  '',
  `Client: Node ${process.version}. Config: 20 flags (examples/flags.json cloned). Distinct subject per request. Access log off.`,
  ...ratios(rows),
  "Hono + Eppo's evaluator: this file's --serve-eppo app (@eppo/node-server-sdk init() from an in-process config server, Bun.serve / Deno.serve / @hono/node-server).",
];
if (floods.length > 0) {
  table.push('', '| Runtime | Flood (50 conn., 10 s) | req/s | p99 (ms) | /healthz p50 (ms) | /healthz max (ms) | probes |', '|---|---:|---:|---:|---:|---:|---:|',
    ...floods.map((f) => `| ${f.runtime} | ${f.flood} | ${Math.round(f.rps).toLocaleString('en-US')} | ${f.p99} | ${f.health.p50.toFixed(1)} | ${f.health.max.toFixed(1)} | ${f.health.n} |`),
    '', ...floods.filter((f) => f.rss).map((f) => `RSS ${f.runtime} (MiB): warm, before the floods ${f.rss[0]}, after floods ${f.rss.slice(1, 4).join(' / ')}, 10 s later ${f.rss[4]}.`));
}
console.log(`\n${table.join('\n')}`);
// bench/run.mjs folds this into BENCHMARKS.md.
writeFileSync(new URL('./load-results.md', import.meta.url), `${table.join('\n')}\n`);
}

/**
 * saltshard ÷ the Hono + Eppo app, single OFREP, per runtime and client: medians, and against the app's best round
 * (it slows down the longer its process serves, so its median flatters saltshard).
 */
function ratios(rows) {
  const out = [];
  for (const r of rows) {
    if (r.kind !== 'saltshard' || r.name !== 'single OFREP evaluation') continue;
    const base = rows.find((b) => b.kind === 'eppo' && b.runtime === r.runtime && b.client === r.client);
    if (base === undefined) continue;
    out.push(`${r.runtime}, ${r.client}: ${(r.rps / base.rps).toFixed(2)}× the baseline's median req/s, ${(r.rps / base.best).toFixed(2)}× its best round (${Math.round(base.best).toLocaleString('en-US')}); server CPU per request ${(base.cpu / r.cpu).toFixed(2)}× less.`);
  }
  return out.length === 0 ? [] : ['', 'saltshard ÷ Hono + Eppo, single OFREP:', '', ...out.map((line) => `- ${line}`)];
}

/** autocannon reports whole milliseconds, wrk fractions. */
function ms(value) {
  if (value === 0) return '<1';
  return Number.isInteger(value) ? String(value) : value.toFixed(2);
}
