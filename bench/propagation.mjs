#!/usr/bin/env node
// Propagation of a config change through a relay (issue 17): a fake Eppo upstream on 127.0.0.1, one `saltshard
// serve` relay polling it every second (ETag), and 100 live clients in 2 processes (50 each) with
// configSource { relay, mode }. For each change the clock starts when the relay has the new config (a long-poll
// of the relay returns) and stops, per client, at its first getter call that returns the new value (getters run
// every millisecond). Modes: 'stream' (SSE) and 'poll' (plain polling of the relay every 30 s, clients started
// over 30 s as a fleet would be, so their polls are spread). Also reported: the delay from the upstream change,
// and the upstream requests (all of them, and full 200 answers).
// Usage: node bench/propagation.mjs [--changes 5] [--clients 100] [--mode stream|poll ...]   (needs npm run build)
// Writes bench/propagation-results.md (folded into BENCHMARKS.md by bench/run.mjs).
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let changes = 5;
let clients = 100;
const modes = [];
let child = null;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--changes') changes = Number(args[++i]);
  else if (args[i] === '--clients') clients = Number(args[++i]);
  else if (args[i] === '--mode') modes.push(args[++i]);
  else if (args[i] === '--child') child = JSON.parse(args[++i]);
}

/** The example flags plus a `config-version` flag returning `v`, published at second `v`. */
function configText(v) {
  const doc = JSON.parse(readFileSync(join(root, 'examples', 'flags.json'), 'utf8'));
  doc.createdAt = new Date(Date.UTC(2026, 0, 1, 0, 0, v)).toISOString();
  doc.flags['config-version'] = {
    key: 'config-version', enabled: true, variationType: 'INTEGER', totalShards: 10000,
    variations: { v: { key: 'v', value: v } }, allocations: [{ key: 'all', splits: [{ variationKey: 'v', shards: [] }], doLog: false }],
  };
  return JSON.stringify(doc);
}

if (child !== null) {
  // A process with `n` clients: reports when all are ready, then for each version the time each client first saw it.
  const { init } = await import('../dist/src/mod.js');
  const quiet = { error: (...a) => console.error(...a), warn: (...a) => console.error(...a), info() {}, debug() {} };
  const list = [];
  for (let i = 0; i < child.n; i++) {
    list.push(await init({ apiKey: 'fleet', configSource: { relay: child.relay, mode: child.mode }, pollingIntervalMs: child.pollMs, logger: quiet }));
    if (child.staggerMs > 0) await new Promise((r) => setTimeout(r, child.staggerMs));
  }
  const seen = list.map((c) => c.getIntegerAssignment('config-version', 'u', {}, -1));
  console.log(JSON.stringify({ ready: true }));
  const firstSeen = new Map();
  setInterval(() => {
    const now = Date.now();
    for (let i = 0; i < list.length; i++) {
      const v = list[i].getIntegerAssignment('config-version', `subject-${i}`, {}, -1);
      if (v === seen[i]) continue;
      if (v < seen[i]) console.log(JSON.stringify({ wentBack: true, client: i, from: seen[i], to: v }));
      seen[i] = v;
      if (!firstSeen.has(v)) firstSeen.set(v, []);
      firstSeen.get(v).push(now);
      if (firstSeen.get(v).length === list.length) console.log(JSON.stringify({ v, times: firstSeen.get(v) }));
    }
  }, 1);
  process.on('SIGTERM', () => process.exit(0));
} else {
  if (modes.length === 0) modes.push('stream', 'poll');
  const rows = [];
  for (const mode of modes) rows.push(await run(mode));
  const pct = (xs, p) => xs[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];
  const out = [
    `### Config propagation through one relay (${new Date().toISOString().slice(0, 10)}; ${clients} live clients in 2 Node ${process.version} processes, ${cpus().length} CPUs: ${cpus()[0]?.model.trim()})`,
    '',
    '| Mode | changes | samples | p50 from relay (ms) | p99 from relay (ms) | max (ms) | p50 from upstream (ms) | p99 from upstream (ms) | upstream requests | upstream 200s | went back |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r) => {
      const a = r.fromRelay.sort((x, y) => x - y);
      const b = r.fromUpstream.sort((x, y) => x - y);
      return `| ${r.label} | ${r.changes} | ${a.length} | ${pct(a, 50)} | ${pct(a, 99)} | ${a[a.length - 1]} | ${pct(b, 50)} | ${pct(b, 99)} | ${r.upstream} | ${r.upstream200} | ${r.wentBack} |`;
    }),
    '',
    'From relay: from the moment the relay has the new config (a long-poll of the relay returns) to each client\'s first getter call returning it '
      + '(getters every 1 ms in each client process). From upstream: from the moment the fake Eppo serves it (the relay polls upstream every 1 s). '
      + 'Upstream requests: every request the fake Eppo received during the mode\'s run, all from the relay (ETag; 304 when unchanged); '
      + 'upstream 200s: full answers (the first load, then one per change). Went back: clients that ever evaluated an older config than one they had (must be 0). '
      + 'Poll mode: clients poll the relay every 30 s, started 300 ms apart as a fleet is deployed over time. Goal (issue 17): p99 < 1 s by stream.',
    '',
  ];
  writeFileSync(join(root, 'bench', 'propagation-results.md'), out.join('\n'));
  console.log(out.join('\n'));
  process.exit(0);
}

async function run(mode) {
  // Fake upstream: the Eppo config endpoint with ETag, counting requests.
  let version = 1;
  let text = configText(version);
  let etag = `"${createHash('sha256').update(text).digest('hex').slice(0, 16)}"`;
  let upstream = 0;
  let upstream200 = 0;
  const fake = createServer((req, res) => {
    upstream++;
    if (req.headers['if-none-match'] === etag) return res.writeHead(304, { etag }).end();
    upstream200++;
    res.writeHead(200, { 'content-type': 'application/json', etag }).end(text);
  });
  await new Promise((r) => fake.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${fake.address().port}/api`;

  const relay = spawn(process.execPath, [join(root, 'bin', 'saltshard'), 'serve', '--port', '0', '--api-key', 'upstream-key', '--base-url', base, '--poll-interval-ms', '1000', '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let relayErr = '';
  relay.stderr.on('data', (d) => void (relayErr += d));
  const relayUrl = await until(() => /on (http:\/\/\S+)/.exec(relayErr)?.[1], 30_000, () => `relay start: ${relayErr}`);

  const per = Math.ceil(clients / 2);
  const stagger = mode === 'poll' ? 300 : 0;
  const events = [];
  const procs = [0, 1].map((k) => {
    const n = k === 0 ? per : clients - per;
    const p = spawn(process.execPath, [fileURLToPath(import.meta.url), '--child', JSON.stringify({ relay: relayUrl, mode, n, pollMs: 30_000, staggerMs: stagger })], { stdio: ['ignore', 'pipe', 'inherit'] });
    let buf = '';
    p.stdout.on('data', (d) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i !== -1; i = buf.indexOf('\n')) {
        events.push({ proc: k, ...JSON.parse(buf.slice(0, i)) });
        buf = buf.slice(i + 1);
      }
    });
    return p;
  });
  await until(() => events.filter((e) => e.ready).length === 2, 120_000, () => 'clients ready');

  const fromRelay = [];
  const fromUpstream = [];
  const count = mode === 'poll' ? 1 : changes;
  const upstreamBefore = 0;
  for (let c = 0; c < count; c++) {
    const previous = etagOfRelay(relayUrl);
    await new Promise((r) => setTimeout(r, 500 + Math.random() * 1000));
    version++;
    text = configText(version);
    etag = `"${createHash('sha256').update(text).digest('hex').slice(0, 16)}"`;
    const changedAt = Date.now();
    // The relay has it when a long-poll holding its previous ETag returns.
    const res = await fetch(`${relayUrl}/v1/config/poll?waitMs=30000&apiKey=x`, { headers: { 'if-none-match': await previous } });
    await res.text();
    const relayAt = Date.now();
    const v = version;
    await until(() => events.filter((e) => e.v === v).length === 2, 120_000, () => `all clients on ${v}`);
    for (const e of events.filter((x) => x.v === v)) {
      for (const at of e.times) {
        fromRelay.push(Math.max(0, at - relayAt));
        fromUpstream.push(at - changedAt);
      }
    }
  }
  const wentBack = events.filter((e) => e.wentBack).length;
  for (const p of procs) p.kill('SIGTERM');
  relay.kill('SIGTERM');
  await new Promise((r) => relay.on('exit', r));
  fake.close();
  console.error(mode, 'done');
  return { label: mode === 'stream' ? 'stream (SSE)' : 'polling every 30 s', changes: count, fromRelay, fromUpstream, upstream: upstream - upstreamBefore, upstream200, wentBack };
}

async function etagOfRelay(relayUrl) {
  const res = await fetch(`${relayUrl}/v1/config/poll?waitMs=0&apiKey=x`);
  await res.text();
  return res.headers.get('etag');
}

async function until(check, timeoutMs, what) {
  const started = Date.now();
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
