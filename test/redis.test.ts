// Shared exposure dedupe (saltshard/redis) against a real redis-server started here on 127.0.0.1: 4 processes
// evaluating the same subjects log each exposure exactly once between them while Redis is up; when Redis stalls
// (SIGSTOP) and then dies (SIGKILL) mid-run, getters keep answering and every logging decision is made within the
// bound (timeoutMs). Skips with a SKIP line when redis-server is not installed.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { offlineInit } from '../src/mod.ts';
import { RedisAssignmentCache } from '../src/redis.ts';
import { encode, parse } from '../src/dedupe/resp.ts';
import { Buffer } from 'node:buffer';
import { closedPort, sleep, waitFor } from './fake-eppo.ts';
import { startScript } from './spawn.ts';
import { ROOT } from './support.ts';

const t = suite('redis');
const figures: Record<string, unknown> = {};
const hasRedis = !spawnSync('redis-server', ['--version']).error;
if (!hasRedis) console.log('SKIP redis: redis-server not found on PATH (Debian package redis-server; .ci/setup.d/17-redis.sh installs it)');

async function startRedis(): Promise<{ port: number; proc: ChildProcess }> {
  const port = await closedPort();
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'yes'], { stdio: 'ignore' });
  await waitFor('redis-server listening', () => new Promise<boolean>((resolve) => {
    const s = connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  }), 10_000);
  return { port, proc };
}

t('RESP: commands encode as arrays of bulk strings; every reply type parses, split anywhere', () => {
  assert.equal(encode(['SET', 'k', 'é', 5]), '*4\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n$1\r\n5\r\n');
  const wire = Buffer.from('+OK\r\n$-1\r\n:42\r\n-ERR wrong\r\n$3\r\nabc\r\n*2\r\n$1\r\na\r\n:1\r\n');
  for (let cut = 0; cut <= wire.length; cut++) {
    const values: unknown[] = [];
    let buf = wire.subarray(0, cut);
    let at = 0;
    const drain = () => {
      for (let r = parse(buf, at); r !== null; r = parse(buf, at)) {
        values.push(r.value);
        at = r.next;
      }
    };
    drain();
    buf = wire;
    drain();
    assert.deepEqual(values.map((v) => (v instanceof Error ? `E:${v.message}` : v)), ['OK', null, 42, 'E:ERR wrong', 'abc', ['a', 1]], `cut at ${cut}`);
  }
});

t('without a Redis server every claim is decided locally at once (no wait, local dedupe)', async () => {
  const cache = new RedisAssignmentCache({ port: await closedPort(), timeoutMs: 50, logger: { error() {}, warn() {} } });
  const entry = { subjectKey: 's', flagKey: 'f', allocationKey: 'a', variationKey: 'v' };
  const t0 = performance.now();
  assert.equal(await cache.claim(entry), true);
  assert.equal(await cache.claim(entry), false);
  assert.equal(await cache.claim({ ...entry, variationKey: 'w' }), true);
  assert.ok(performance.now() - t0 < 50);
  assert.deepEqual({ ...cache.stats(), connected: undefined }, { claims: 3, won: 0, sharedDuplicates: 0, localDuplicates: 1, fallbacks: 2, timeouts: 0, unavailable: 2, connected: undefined });
  cache.close();
});

t('4 processes, same subjects: 0 cross-process duplicates while Redis is up; Redis stalled then killed: getters and decisions stay within the bound', async () => {
  if (!hasRedis) return;
  if (typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined') {
    // Deno's node:net answers a local round trip in 30-100 ms here (Node and Bun: under 1 ms), so claims under load
    // can exceed the bound and fall back; the same code is checked under Node and Bun.
    console.log('SKIP redis: the 4-process run is skipped on Deno (node:net round trips of 30-100 ms make the timing bound flaky)');
    return;
  }
  const { port, proc } = await startRedis();
  const SUBJECTS = 1500;
  // The bound on a logging decision. 1 s rather than a production-like 20-50 ms: this test shares 2 cores with
  // everything else, and a process not scheduled for longer than the bound would fall back (and could duplicate).
  const BOUND_MS = 1_000;
  const children = [1, 2, 3, 4].map((seed) => startScript('redis-child', [String(port), String(seed), String(SUBJECTS), '1500', String(BOUND_MS)], { stdio: ['pipe', 'pipe', 'pipe'] }));
  try {
    const line = (c: (typeof children)[number], phase: number) => c.out().split('\n').map((l) => (l.startsWith('{') ? JSON.parse(l) : null)).find((o) => o?.phase === phase);
    await waitFor('phase 1 in all 4 processes', () => children.every((c) => line(c, 1) !== undefined || c.child.exitCode !== null), 120_000);
    const phase1 = children.map((c, i) => line(c, 1) ?? assert.fail(`child ${i}: ${c.err()}`));
    // What a single process would log for these subjects: every (flag, subject) with doLog, once.
    const expected = new Set<string>();
    const client = offlineInit({ flagsConfiguration: readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8'), assignmentLogger: { logAssignment: (e) => void expected.add(`${e.featureFlag}|${e.subject}`) } });
    for (let i = 0; i < SUBJECTS; i++) {
      client.getStringAssignment('checkout-redesign', `user-${i}`, { country: 'US', appVersion: '1.0.0' }, 'none');
      client.getBooleanAssignment('new-search', `user-${i}`, { country: 'US', appVersion: '1.0.0' }, false);
    }
    const all: string[] = phase1.flatMap((p) => p.logged);
    const duplicates = all.length - new Set(all).size;
    assert.equal(duplicates, 0, `no exposure logged by two processes: ${JSON.stringify(phase1.map((p) => p.stats))}`);
    assert.deepEqual(new Set(all), expected, 'and none lost');
    assert.ok(phase1.every((p) => p.stats.fallbacks === 0), JSON.stringify(phase1.map((p) => p.stats)));
    figures.up = { processes: 4, exposures: expected.size, logged: all.length, duplicates, perProcess: phase1.map((p) => p.logged.length), sharedDuplicates: phase1.reduce((s, p) => s + p.stats.sharedDuplicates, 0) };

    // Phase 2: Redis stalls (SIGSTOP: claims time out), then dies (SIGKILL: claims fail at once).
    for (const c of children) c.child.stdin!.write('go\n');
    await sleep(300);
    proc.kill('SIGSTOP');
    await sleep(500);
    proc.kill('SIGKILL');
    await waitFor('phase 2 in all 4 processes', () => children.every((c) => line(c, 2) !== undefined || c.child.exitCode !== null), 60_000);
    const phase2 = children.map((c, i) => line(c, 2) ?? assert.fail(`child ${i}: ${c.err()}`));
    for (const p of phase2) {
      assert.ok(p.calls > 1000, `getters kept answering: ${p.calls}`);
      assert.ok(p.stats.fallbacks > 0, 'claims were decided locally');
      // The bound: a claim is decided within timeoutMs; the margin covers a loaded machine's scheduling.
      assert.ok(p.maxDecisionMs <= BOUND_MS + 500, `decision took ${p.maxDecisionMs} ms`);
      assert.ok(p.p99GetterMs < 5, `getter p99 ${p.p99GetterMs} ms`);
    }
    figures.boundMs = BOUND_MS;
    figures.down = phase2.map((p) => ({ calls: p.calls, maxGetterMs: +p.maxGetterMs.toFixed(2), p99GetterMs: +p.p99GetterMs.toFixed(3), maxDecisionMs: +p.maxDecisionMs.toFixed(1), fallbacks: p.stats.fallbacks }));
  } finally {
    for (const c of children) c.child.kill('SIGKILL');
    proc.kill('SIGKILL');
  }
});

t('through Eppo\'s useCustomAssignmentCache: two clients share dedupe in Redis (each exposure logged once), getters never wait; Redis killed: local dedupe', async () => {
  if (!hasRedis) return;
  const { port, proc } = await startRedis();
  const quiet = { error() {}, warn() {}, info() {}, debug() {} };
  const config = readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8');
  // A generous bound: this test is about sharing, not timing (getters never wait for it either way).
  const caches = [0, 1].map(() => new RedisAssignmentCache({ port, timeoutMs: 2_000, logger: quiet }));
  const logs: string[][] = [[], []];
  const clients = caches.map((cache, i) => {
    const client = offlineInit({ flagsConfiguration: config, logger: quiet, assignmentLogger: { logAssignment: (e) => void logs[i].push(`${e.featureFlag}|${e.subject}|${e.variation}`) } });
    client.useCustomAssignmentCache(cache);
    return client;
  });
  const decided = (n: number) => clients.every((c) => c.metrics().exposures.logged + c.metrics().exposures.deduped === n);
  try {
    await waitFor('both caches connected', () => caches.every((c) => c.stats().connected), 5_000);
    const N = 300;
    let getterMs = 0;
    // Blocks of 50 subjects; the client that goes first alternates per block, so each wins about half the claims.
    for (let b = 0; b < N / 50; b++) {
      for (const c of b % 2 === 0 ? clients : [...clients].reverse()) {
        for (let s = b * 50; s < (b + 1) * 50; s++) {
          const t0 = performance.now();
          c.getJSONAssignment('onboarding-copy', `user-${s}`, {}, {});
          getterMs += performance.now() - t0;
        }
        await sleep(5);
      }
    }
    await waitFor('every claim decided', () => decided(N), 10_000);
    const all = [...logs[0], ...logs[1]];
    assert.equal(all.length, N, `each exposure logged once across the two clients (${logs[0].length} + ${logs[1].length})`);
    assert.equal(new Set(all).size, N);
    assert.ok(logs[0].length > 0 && logs[1].length > 0, 'both clients won claims');
    assert.equal(caches[0].stats().sharedDuplicates + caches[1].stats().sharedDuplicates, N, 'the other client\'s claim was refused by Redis');
    // Repeats are answered by each cache's local LRU, without Redis.
    for (const c of clients) c.getJSONAssignment('onboarding-copy', 'user-0', {}, {});
    await waitFor('repeat decided', () => decided(N + 1), 5_000);
    assert.equal(logs[0].length + logs[1].length, N);
    figures.customCache = { subjects: N, logged: [logs[0].length, logs[1].length], getterMsPerCall: +(getterMs / (2 * N)).toFixed(4) };
    // Redis dies: claims fail at once and fall back to each process's own dedupe; getters keep answering.
    proc.kill('SIGKILL');
    await waitFor('disconnect seen', () => caches.every((c) => !c.stats().connected), 5_000);
    for (const c of clients) {
      assert.deepEqual(c.getJSONAssignment('onboarding-copy', 'late-1', {}, { fallback: true }) !== undefined, true);
      c.getJSONAssignment('onboarding-copy', 'late-1', {}, {});
    }
    await waitFor('fallback decided', () => decided(N + 3), 5_000);
    assert.deepEqual(logs.map((l) => l.filter((x) => x.includes('|late-1|')).length), [1, 1], 'each logs once locally while Redis is down');
    assert.ok(caches.every((c) => c.stats().fallbacks >= 1));
  } finally {
    for (const c of caches) c.close();
    proc.kill('SIGKILL');
  }
});

t.after(() => console.log('figures', JSON.stringify(figures)));
t.run();
