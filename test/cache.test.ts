// The persistent config cache (reliability-plan §6, §8 F): served at start while the network is down, replaced
// after a good fetch, corrupted / foreign / other-key / empty files ignored with one warning, stale temp files
// removed, custom caches, write failures, and a SIGKILL test of the atomic write (never a torn file).
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type InitOptions, type PersistentCache, type SaltshardClient, type SyncStatus, createClient, init } from '../src/mod.ts';
import { fileCache } from '../src/live/cache.ts';
import { type LoopReport, captureLogger, closedPort, configText, getterLoop, sleep, startFakeEppo, waitFor } from './fake-eppo.ts';
import { ROOT } from './support.ts';

const t = suite('cache');
const KEY = 'sk-cache-test-KEY-42';
const INTERVAL = 100;
const figures: Record<string, unknown> = {};
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'saltshard-cache-'));
  dirs.push(dir);
  return dir;
}

/** The UFC payload inside a cache file, or null when it is not a valid envelope for KEY. */
/**
 * The config the file holds, read directly: a fileCache instance would first remove the temp files of the
 * cache on this path as stale — the running client's write in flight included (a race this reader, polled in a
 * loop, used to win three times in a row on a loaded machine).
 */
async function cachedPayload(path: string): Promise<string | null> {
  try {
    return (JSON.parse(readFileSync(path, 'utf8')) as { payload?: string }).payload ?? null;
  } catch {
    return null;
  }
}

function options(baseUrl: string, persistentCache: InitOptions['persistentCache'], logger = captureLogger().logger): InitOptions {
  return { apiKey: KEY, baseUrl, pollingIntervalMs: INTERVAL, requestTimeoutMs: 500, persistentCache, logger };
}

const cacheWarnings = (log: ReturnType<typeof captureLogger>) => log.text('warn').filter((w) => /Config cache/.test(w));

t('the cache is served at start while the network is down; a good fetch then replaces it on disk', async () => {
  const path = join(tempDir(), 'flags.json');
  await fileCache(path, KEY, captureLogger().logger).set(configText(1));

  // Connection refused: init resolves from the cache instead of rejecting.
  const port = await closedPort();
  const offline = await init(options(`http://127.0.0.1:${port}/api`, path));
  assert.equal(offline.getIntegerAssignment('config-version', 'u', {}, -1), 1);
  assert.equal((offline.syncStatus() as SyncStatus).source, 'cache');
  assert.equal((offline.syncStatus() as SyncStatus).polling, true, 'keeps polling with a cached config');
  offline.close();

  const fake = await startFakeEppo(configText(2));
  fake.plan = { kind: 'status', status: 500 };
  const log = captureLogger();
  const client = createClient(options(fake.baseUrl, path, log.logger));
  const loop = getterLoop(client);
  try {
    assert.equal(await client.waitForInitialization(), false);
    assert.equal(loop.current, 1);
    const s = client.syncStatus() as SyncStatus;
    assert.equal(s.source, 'cache');
    assert.ok(s.failures >= 1);
    await sleep(300);
    assert.equal(loop.current, 1, 'the cached config stays during the outage');
    const upAt = Date.now();
    fake.plan = { kind: 'ok' };
    await waitFor('config 2', () => loop.current === 2, 2_000);
    assert.equal((client.syncStatus() as SyncStatus).source, 'network');
    await waitFor('the file to hold config 2', async () => (await cachedPayload(path)) === configText(2), 2_000).catch((e) => { throw new Error(`${e.message}; ${log.text().join(' | ')}`); });
    const text = readFileSync(path, 'utf8');
    assert.ok(!text.includes(KEY), 'the file holds a hash of the key, not the key');
    if (process.platform !== 'win32') assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(loop.thrown, 0);
    assert.deepEqual(cacheWarnings(log), []);
    figures.cacheToNetworkMs = loop.firstSeen(2)! - upAt;
  } finally {
    loop.stop();
    client.close();
    await fake.close();
  }
});

const BAD_FILES: Array<[string, (path: string) => Promise<void> | void, RegExp]> = [
  ['a corrupted (truncated) file', async (p) => {
    await fileCache(p, KEY, captureLogger().logger).set(configText(1));
    const text = readFileSync(p, 'utf8');
    writeFileSync(p, text.slice(0, text.length >> 1));
  }, /not JSON/],
  ['a file whose payload fails its checksum', async (p) => {
    await fileCache(p, KEY, captureLogger().logger).set(configText(1));
    writeFileSync(p, readFileSync(p, 'utf8').replace('\\"value\\":1', '\\"value\\":7'));
  }, /checksum/],
  ['a file for another key', (p) => fileCache(p, 'sk-someone-else', captureLogger().logger).set(configText(1)), /another SDK key/],
  ['a foreign JSON file', (p) => writeFileSync(p, configText(1)), /not a saltshard cache file/],
  ['an empty file', (p) => writeFileSync(p, ''), /not JSON/],
  ['random bytes', (p) => writeFileSync(p, Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919) & 255)), /not JSON/],
  ['a future schemaVersion', async (p) => {
    await fileCache(p, KEY, captureLogger().logger).set(configText(1));
    writeFileSync(p, readFileSync(p, 'utf8').replace('"schemaVersion":1', '"schemaVersion":2'));
  }, /not a saltshard cache file/],
];

for (const [name, make, why] of BAD_FILES) {
  t(`${name} is ignored with one warning, never served, and replaced after a good fetch`, async () => {
    const path = join(tempDir(), 'flags.json');
    await make(path);
    const before = readFileSync(path);

    // Network down: defaults, one warning, no crash, the file left alone.
    const down = await startFakeEppo(configText(2));
    down.plan = { kind: 'status', status: 500 };
    const log = captureLogger();
    const client = createClient({ ...options(down.baseUrl, path, log.logger), pollAfterFailedInitialization: true });
    const loop = getterLoop(client);
    try {
      assert.equal(await client.waitForInitialization(), false);
      assert.equal(client.isInitialized(), false);
      assert.equal(loop.current, -1);
      await sleep(200);
      const warnings = cacheWarnings(log);
      assert.equal(warnings.length, 1, warnings.join('\n'));
      assert.match(warnings[0], why);
      assert.equal((client.syncStatus() as SyncStatus).source, 'none');
      assert.deepEqual(readFileSync(path), before);

      // The network comes back: its config is served and written over the bad file.
      down.plan = { kind: 'ok' };
      await waitFor('config 2', () => loop.current === 2, 2_000);
      await waitFor('the file replaced', () => !readFileSync(path).equals(before), 2_000);
      assert.equal(await cachedPayload(path), configText(2));

      // Someone corrupts the file while the client runs: the config in memory is not touched.
      writeFileSync(path, '{"schemaVersion":1,"payload":"{}"');
      down.setConfig(configText(2));
      await sleep(300);
      assert.equal(loop.current, 2);
      assert.equal(cacheWarnings(log).length, 1);
      assert.equal(loop.thrown, 0);
    } finally {
      loop.stop();
      client.close();
      await down.close();
    }
  });
}

t('stale temp files of this cache are removed at the first read; others are left alone', async () => {
  const dir = tempDir();
  const path = join(dir, 'flags.json');
  const stale = ['.flags.json.lx3k2abc.tmp', '.flags.json.zz9.tmp'];
  const keep = ['.other.json.abc.tmp', 'flags.json.tmp', '.flags.json.note', 'unrelated.txt'];
  for (const name of [...stale, ...keep]) writeFileSync(join(dir, name), 'x');
  const cache = fileCache(path, KEY, captureLogger().logger);
  assert.equal(await cache.get(), null);
  const left = readdirSync(dir).sort();
  assert.deepEqual(left, [...keep].sort());
  await cache.set(configText(1));
  assert.deepEqual(readdirSync(dir).filter((n) => n.endsWith('.tmp')).sort(), ['.other.json.abc.tmp', 'flags.json.tmp']);
});

t('a second cache on the same path cleaning temp files at start does not make a write in flight fail', async () => {
  const path = join(tempDir(), 'flags.json');
  const big = configText(1);
  const writer = fileCache(path, KEY, captureLogger().logger);
  let failed = 0;
  for (let i = 0; i < 100; i++) {
    const write = Promise.resolve(writer.set(big)).then(() => true, () => false);
    await fileCache(path, KEY, captureLogger().logger).get(); // a fresh instance cleans "stale" temps first
    if (!(await write)) failed++;
  }
  assert.equal(await cachedPayload(path), big);
  figures.concurrentCleanerFailedWrites = failed;
  assert.equal(failed, 0, `${failed} of 100 writes failed`);
});

t('a custom {get, set} cache (sync and async) is read at start and written after a good fetch', async () => {
  const fake = await startFakeEppo(configText(1));
  let stored: string | null = null;
  let sets = 0;
  const memory: PersistentCache = { get: () => stored, set: (text) => void (sets++, stored = text) };
  const a = await init(options(fake.baseUrl, memory));
  try {
    await waitFor('a set', () => sets === 1, 1_000);
    assert.equal(stored, configText(1));
    // 304s do not rewrite the cache.
    await sleep(INTERVAL * 3);
    assert.equal(sets, 1);
  } finally {
    a.close();
    await fake.close();
  }
  const port = await closedPort();
  const asyncCache: PersistentCache = { get: async () => (await sleep(5), stored), set: async () => {} };
  const b = createClient(options(`http://127.0.0.1:${port}/api`, asyncCache));
  assert.equal(await b.waitForInitialization(), false);
  assert.equal(b.getIntegerAssignment('config-version', 'u', {}, -1), 1);
  assert.equal((b.syncStatus() as SyncStatus).source, 'cache');
  b.close();

  // A custom cache that throws or returns garbage: one warning, nothing served from it, nothing thrown.
  for (const bad of [
    { get: () => { throw new Error('disk on fire'); }, set: () => {} },
    { get: () => '{"flags": bad', set: () => {} },
    { get: () => '{}', set: () => {} },
    { get: () => Promise.reject(new Error('no')), set: () => {} },
  ] as PersistentCache[]) {
    const log = captureLogger();
    const c = createClient(options(`http://127.0.0.1:${port}/api`, bad, log.logger));
    assert.equal(await c.waitForInitialization(), false);
    assert.equal(c.isInitialized(), false);
    assert.equal(cacheWarnings(log).length, 1, log.text().join('\n'));
    c.close();
  }
  assert.throws(() => createClient(options('http://127.0.0.1:1/api', { get: 1 } as unknown as PersistentCache)), /persistentCache must be a file path or an object/);
});

t('write failures (path under a file, read-only folder, throwing set) warn once, naming the path, and the client carries on', async () => {
  const fake = await startFakeEppo(configText(1));
  const dir = tempDir();
  const file = join(dir, 'a-file');
  writeFileSync(file, 'x');
  let throwingSets = 0;
  const cases: Array<[string, InitOptions['persistentCache'], RegExp]> = [
    // A removed folder is created again by the next write (see the test of missing folders): no warning.
    ['path under a regular file', join(file, 'flags.json'), /^Config cache \S+a-file\/flags\.json not written: a parent of the path is not a directory \(ENOTDIR\); continuing in memory$/],
    ['set throws', { get: () => null, set: () => { throwingSets++; throw Object.assign(new Error('read-only file system'), { code: 'EROFS' }); } }, /EROFS/],
  ];
  const readOnly = join(dir, 'ro');
  if (process.getuid?.() !== 0) {
    mkdirSync(readOnly, 0o500);
    cases.push(['read-only directory', join(readOnly, 'flags.json'), /^Config cache \S+ro\/flags\.json not written: permission denied \(EACCES\)/]);
  }
  const clients: Array<{ name: string; client: SaltshardClient; log: ReturnType<typeof captureLogger>; code: RegExp; loop: LoopReport }> = [];
  try {
    for (const [name, cache, code] of cases) {
      const log = captureLogger();
      const client = await init(options(fake.baseUrl, cache, log.logger));
      clients.push({ name, client, log, code, loop: getterLoop(client) });
    }
    // Three config changes, so three more writes fail.
    for (const v of [2, 3, 4]) {
      fake.setConfig(configText(v));
      await waitFor(`config ${v}`, () => clients.every((c) => c.loop.current === v), 1_000);
      await sleep(20);
    }
    for (const c of clients) {
      const warnings = c.log.text('warn').filter((w) => /not written/.test(w));
      assert.equal(warnings.length, 1, `${c.name}: ${warnings.join('\n')}`);
      assert.match(warnings[0], c.code, c.name);
      assert.equal(c.loop.thrown, 0);
      assert.equal((c.client.syncStatus() as SyncStatus).polling, true);
    }
    assert.ok(throwingSets >= 4, `${throwingSets} sets tried`);
  } finally {
    for (const c of clients) {
      c.loop.stop();
      c.client.close();
    }
    await fake.close();
    if (existsSync(readOnly)) chmodSync(readOnly, 0o700);
  }
});

t('missing parent folders are created (mode 0700) on the first write; a removed folder is created again', async () => {
  const fake = await startFakeEppo(configText(1));
  const base = tempDir();
  const path = join(base, 'var', 'cache', 'myapp', 'flags.json');
  const log = captureLogger();
  const client = await init(options(fake.baseUrl, path, log.logger));
  try {
    await waitFor('the cache file', () => existsSync(path), 2_000);
    assert.equal(await cachedPayload(path), configText(1));
    if (process.platform !== 'win32') {
      for (const d of ['var', 'var/cache', 'var/cache/myapp']) assert.equal(statSync(join(base, d)).mode & 0o777, 0o700, d);
      assert.equal(statSync(path).mode & 0o777, 0o600);
    }
    rmSync(join(base, 'var'), { recursive: true });
    fake.setConfig(configText(2));
    await waitFor('the file to hold config 2 again', async () => existsSync(path) && (await cachedPayload(path)) === configText(2), 2_000);
    assert.deepEqual(cacheWarnings(log), []);
  } finally {
    client.close();
    await fake.close();
  }
});

t('failed fetches say what is served: nothing yet, the cached config, or the last good one', async () => {
  const port = await closedPort();
  const none = captureLogger();
  const c1 = createClient(options(`http://127.0.0.1:${port}/api`, undefined, none.logger));
  assert.equal(await c1.waitForInitialization(), false);
  c1.close();
  const first = none.text('warn')[0] ?? '';
  assert.match(first, /^Config fetch failed: network error( \(ECONNREFUSED\))?; no config yet: getters return their defaults until a fetch succeeds$/);
  assert.ok(none.text().every((w) => !/last good config/.test(w)), none.text().join('\n'));

  const path = join(tempDir(), 'flags.json');
  await fileCache(path, KEY, captureLogger().logger).set(configText(1));
  const cached = captureLogger();
  const c2 = createClient(options(`http://127.0.0.1:${port}/api`, path, cached.logger));
  assert.equal(await c2.waitForInitialization(), false);
  c2.close();
  assert.match(cached.text('warn')[0] ?? '', /; serving the cached config$/);
});

/** About 1 MB of JSON, the same as in test/fixtures/atomic-writer.mjs. */
function payload(tag: string): string {
  return JSON.stringify({ tag, data: tag.repeat(1 << 20) });
}

t('SIGKILL during atomic writes, 20 times: the file is always A or B, never torn; stale temps cleaned at restart', async () => {
  const KILLS = 20;
  const path = join(tempDir(), 'flags.json');
  const writer = join(ROOT, 'test', 'fixtures', 'atomic-writer.mjs');
  const isDeno = typeof (globalThis as { Deno?: unknown }).Deno !== 'undefined';
  const args = isDeno ? ['run', '-A', '--no-lock', writer, path] : [writer, path];
  const [A, B] = [payload('A'), payload('B')];
  let torn = 0;
  let staleTemps = 0;
  const seen = { A: 0, B: 0 };
  const delays: number[] = [];
  for (let k = 0; k < KILLS; k++) {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => void (out += d));
    child.stderr!.on('data', (d) => void (err += d));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    await waitFor(`writer ${k} ready${err ? `: ${err}` : ''}`, () => out.includes('ready') || child.exitCode !== null, 15_000);
    assert.ok(out.includes('ready'), `the writer exited early: ${err}`);
    const delay = 5 + Math.floor(Math.random() * 150);
    delays.push(delay);
    await sleep(delay);
    child.kill('SIGKILL');
    await exited;
    const text = readFileSync(path, 'utf8');
    let ok = false;
    try {
      JSON.parse(text);
      ok = text === A || text === B;
    } catch {
      ok = false;
    }
    if (!ok) torn++;
    else seen[text === A ? 'A' : 'B']++;
    staleTemps = readdirSync(join(path, '..')).filter((n) => n.endsWith('.tmp')).length;
  }
  // A restart (the first read of a file cache) removes whatever temp files the kills left.
  const left = readdirSync(join(path, '..')).filter((n) => n.endsWith('.tmp')).length;
  await fileCache(path, KEY, captureLogger().logger).get();
  assert.deepEqual(readdirSync(join(path, '..')).filter((n) => n.endsWith('.tmp')), []);
  figures.kill = { kills: KILLS, torn, seen, tempFilesBeforeRestart: left, lastStaleTemps: staleTemps };
  assert.equal(torn, 0, `${torn} of ${KILLS} files torn`);
});

t.after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  console.log(`FIGURES ${JSON.stringify(figures)}`);
});

t.run();
