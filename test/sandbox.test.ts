// Every user callback slot at once (issue 12, item 1; reliability-plan §0): the diagnostics logger, exposure and
// bandit loggers, on(...) listeners, a custom persistent cache and the server's logger all throw, reject, or throw
// values that cannot even be printed — and getters, batches, the poller and the server keep working, with no
// uncaught exception and no unhandled rejection, on Node, Bun and Deno.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import process from 'node:process';
import { type Logger, createClient, offlineInit } from '../src/mod.ts';
import type { ClientEvent } from '../src/client.ts';
import { Sandbox, callSandboxed, errorText, safeLogger } from '../src/events/sandbox.ts';
import { serve } from '../src/server.ts';
import { configText, sleep, startFakeEppo, waitFor } from './fake-eppo.ts';
import { TEST_DATA, hasTestData, readText } from './support.ts';

const t = suite('sandbox');

type Mode = 'throw' | 'reject' | 'throw-unprintable' | 'reject-unprintable';
const MODES: Mode[] = ['throw', 'reject', 'throw-unprintable', 'reject-unprintable'];
const EVENTS: ClientEvent[] = ['configurationChanged', 'syncFailed', 'syncRecovered'];

/** A value whose every property access and conversion throws (even `instanceof` and String()). */
function unprintable(): unknown {
  const trap = () => {
    throw new Error('trap');
  };
  return new Proxy({}, { get: trap, getPrototypeOf: trap, has: trap, ownKeys: trap, getOwnPropertyDescriptor: trap });
}

/** A failing callback that counts its calls per slot. */
// deno-lint-ignore no-explicit-any
function failing(mode: Mode, calls: Map<string, number>, slot: string): (...args: unknown[]) => any {
  return () => {
    calls.set(slot, (calls.get(slot) ?? 0) + 1);
    const err = mode.endsWith('unprintable') ? unprintable() : new Error(`${slot} failed`);
    if (mode.startsWith('throw')) throw err;
    return Promise.reject(err);
  };
}

function hostileLogger(mode: Mode, calls: Map<string, number>, slot = 'logger'): Logger {
  return { error: failing(mode, calls, slot), warn: failing(mode, calls, slot), info: failing(mode, calls, slot), debug: failing(mode, calls, slot) } as Logger;
}

/** Uncaught exceptions and unhandled rejections seen while `fn` runs (and a little after). */
async function escapes(fn: () => Promise<void>): Promise<unknown[]> {
  const seen: unknown[] = [];
  const onError = (err: unknown) => void seen.push(err);
  process.on('uncaughtException', onError);
  process.on('unhandledRejection', onError);
  try {
    await fn();
    await sleep(50);
  } finally {
    process.off('uncaughtException', onError);
    process.off('unhandledRejection', onError);
  }
  return seen;
}

const FLAGS = ['checkout-redesign', 'new-search', 'results-per-page', 'price-multiplier', 'onboarding-copy', 'config-version'];
const attrs = (i: number) => ({ country: ['US', 'FR', 'DE'][i % 3], appVersion: '2.5.0', sessions: i, email: `u${i}@example.org` });

/** Every getter type for `n` subjects, as one comparable list. */
function readAll(client: ReturnType<typeof offlineInit>, n: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) {
    const s = `user-${i}`;
    out.push(
      client.getStringAssignment('checkout-redesign', s, attrs(i), 'none'),
      client.getBooleanAssignment('new-search', s, attrs(i), false),
      client.getIntegerAssignment('results-per-page', s, attrs(i), 0),
      client.getNumericAssignment('price-multiplier', s, attrs(i), 0),
      client.getJSONAssignment('onboarding-copy', s, attrs(i), null),
      client.getStringAssignmentDetails('checkout-redesign', s, attrs(i), 'none').variation,
      client.getIntegerAssignment('config-version', s, attrs(i), -1),
    );
  }
  return out;
}

function batchValues(client: ReturnType<typeof offlineInit>, n: number): unknown[] {
  const subjects = Array.from({ length: n }, (_, i) => ({ subjectKey: `user-${i}`, subjectAttributes: attrs(i) }));
  const r = client.assignMany(subjects, FLAGS);
  const out: unknown[] = [];
  for (let i = 0; i < n; i++) for (let f = 0; f < FLAGS.length; f++) out.push(r.value(i, f));
  return out;
}

for (const mode of MODES) {
  t(`every callback slot ${mode}s at once: getters, batches, poller and server keep working`, async () => {
    const calls = new Map<string, number>();
    const fake = await startFakeEppo(configText(1));
    // The first two config requests fail, so syncFailed and syncRecovered fire and the poller's failure path runs.
    fake.plan = (n) => (n < 2 ? { kind: 'status', status: 500 } : { kind: 'ok' });
    const seen = await escapes(async () => {
      const client = createClient({
        apiKey: 'sandbox-test-key',
        baseUrl: fake.baseUrl,
        pollingIntervalMs: 200,
        requestTimeoutMs: 2_000,
        numInitialRequestRetries: 0,
        pollAfterFailedInitialization: true,
        logger: hostileLogger(mode, calls),
        assignmentLogger: { logAssignment: failing(mode, calls, 'assignmentLogger') },
        banditLogger: { logBanditAction: failing(mode, calls, 'banditLogger') },
        persistentCache: { get: failing(mode, calls, 'cache.get') as () => null, set: failing(mode, calls, 'cache.set') as () => void },
      });
      for (const event of EVENTS) client.on(event, failing(mode, calls, `on:${event}`));
      // During the outage: defaults, no throw.
      assert.equal(client.getIntegerAssignment('config-version', 'u', {}, -1), -1);
      await waitFor('the first config', () => client.isInitialized(), 15_000);
      await waitFor('config 1', () => client.getIntegerAssignment('config-version', 'u', {}, -1) === 1, 15_000);

      const reference = offlineInit({ flagsConfiguration: configText(1), logger: safeLogger(null) });
      assert.deepEqual(readAll(client, 300), readAll(reference, 300), 'getters');
      assert.deepEqual(readAll(client, 300), readAll(reference, 300), 'getters again (failed deliveries are retried)');
      assert.deepEqual(batchValues(client, 400), batchValues(reference, 400), 'assignMany');

      // The poller survives the listener and logger failures of two more config changes.
      for (const version of [2, 3]) {
        fake.setConfig(configText(version));
        await waitFor(`config ${version}`, () => client.getIntegerAssignment('config-version', 'u', {}, -1) === version, 15_000);
      }

      const server = await serve({ client, logger: hostileLogger(mode, calls, 'server logger'), port: 0, hostname: '127.0.0.1', drainTimeoutMs: 2_000 });
      try {
        for (let i = 0; i < 20; i++) {
          const health = await fetch(`${server.url}/healthz`);
          assert.equal(health.status, 200);
          await health.body?.cancel();
          const res = await fetch(`${server.url}/ofrep/v1/evaluate/flags/config-version`, {
            method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ context: { targetingKey: `s${i}` } }),
          });
          assert.equal(res.status, 200);
          assert.equal(((await res.json()) as { value: number }).value, 3);
        }
      } finally {
        await server.shutdown();
      }
      client.close();
    });
    await fake.close();
    assert.deepEqual(seen.map(errorText), [], 'nothing escaped to the process');
    for (const slot of ['logger', 'assignmentLogger', 'cache.get', 'cache.set', 'on:configurationChanged', 'on:syncFailed', 'on:syncRecovered', 'server logger']) {
      assert.ok((calls.get(slot) ?? 0) > 0, `slot ${slot} was exercised`);
    }
  });

  t(`no exposure logger, a logger that ${mode}s: the full pre-logger queue never breaks a getter`, async () => {
    const calls = new Map<string, number>();
    const seen = await escapes(async () => {
      const client = offlineInit({ flagsConfiguration: configText(1), logger: hostileLogger(mode, calls) });
      const reference = offlineInit({ flagsConfiguration: configText(1), logger: safeLogger(null) });
      assert.deepEqual(readAll(client, 500), readAll(reference, 500));
      assert.deepEqual(batchValues(client, 500), batchValues(reference, 500));
      assert.ok((calls.get('logger') ?? 0) > 0, 'the queue-full warning went to the hostile logger');
    });
    assert.deepEqual(seen.map(errorText), []);
  });

  t(`bandit logger and logger ${mode}: bandit actions still served`, async () => {
    if (!hasTestData(`sandbox bandits (${mode})`)) return;
    const calls = new Map<string, number>();
    const seen = await escapes(async () => {
      const config = { flagsConfiguration: readText(TEST_DATA, 'ufc', 'bandit-flags-v1.json'), banditsConfiguration: readText(TEST_DATA, 'ufc', 'bandit-models-v1.json') };
      const reference = offlineInit({ ...config, logger: safeLogger(null) });
      const client = offlineInit({
        ...config,
        logger: hostileLogger(mode, calls),
        assignmentLogger: { logAssignment: failing(mode, calls, 'assignmentLogger') },
        banditLogger: { logBanditAction: failing(mode, calls, 'banditLogger') },
      });
      const subject = { numericAttributes: { age: 25 }, categoricalAttributes: { country: 'USA', gender_identity: 'female' } };
      const actions = { nike: { numericAttributes: { brand_affinity: 1.5 }, categoricalAttributes: { loyalty_tier: 'silver' } } };
      let actionsSeen = 0;
      for (let i = 0; i < 50; i++) {
        const got = client.getBanditAction('banner_bandit_flag', `alice-${i}`, subject, actions, 'default');
        assert.deepEqual(got, reference.getBanditAction('banner_bandit_flag', `alice-${i}`, subject, actions, 'default'));
        actionsSeen += got.action === 'nike' ? 1 : 0;
      }
      assert.ok(actionsSeen > 0, 'some subjects drew the bandit');
      assert.ok((calls.get('banditLogger') ?? 0) >= actionsSeen, 'each draw reached the failing bandit logger');
    });
    assert.deepEqual(seen.map(errorText), []);
  });
}

t('hostile assignment loggers: a method getter that throws, a method removed, a missing method, a thenable whose then throws or rejects', async () => {
  const lines: string[] = [];
  const diagnostics = { error: (...a: unknown[]) => void lines.push(a.join(' ')), warn: () => {} };
  // Setup checks the method once (a logger without one is a setup error): these turn hostile afterwards.
  let reads = 0;
  const hostile = [
    { get logAssignment() { if (reads++ > 0) throw new Error('getter'); return () => {}; } },
    { logAssignment: () => {} },
    { logAssignment: () => ({ get then(): never { throw new Error('then getter'); } }) },
    { logAssignment: () => ({ then: (_ok: unknown, fail: (e: unknown) => void) => fail(new Error('thenable rejected')) }) },
  ];
  const want = ['Assignment logger threw Error: getter', 'Assignment logger threw TypeError', 'Assignment logger threw Error: then getter', 'Assignment logger rejected Error: thenable rejected'];
  const seen = await escapes(async () => {
    for (let k = 0; k < hostile.length; k++) {
      lines.length = 0;
      const client = offlineInit({ flagsConfiguration: configText(1), logger: diagnostics, assignmentLogger: hostile[k] as never });
      if (k === 1) delete (hostile[k] as { logAssignment?: unknown }).logAssignment;
      const reference = offlineInit({ flagsConfiguration: configText(1), logger: safeLogger(null) });
      // The same subject twice: an event that failed is not remembered as logged (a rejection forgets it), so it is tried again.
      for (let n = 0; n < 2; n++) {
        assert.equal(client.getStringAssignment('checkout-redesign', 'user-1', attrs(1), 'none'), reference.getStringAssignment('checkout-redesign', 'user-1', attrs(1), 'none'));
      }
      await sleep(5);
      const m = client.metrics();
      // A logger that returned has logged (its event is remembered) unless its promise rejects: a thenable whose
      // `then` cannot be read is reported once and counted as logged, as the SDK cannot observe it further.
      const attempts = k === 2 ? 1 : 2;
      assert.ok(lines.length === attempts && lines.every((l) => l.startsWith(want[k]!)), `${k}: ${lines.join(' | ')}`);
      assert.deepEqual([m.exposures.logged, m.exposures.failed, m.exposures.deduped], k === 2 ? [1, 0, 1] : [0, 2, 0], `${k}: ${JSON.stringify(m.exposures)}`);
    }
  });
  assert.deepEqual(seen, []);
});

t('Sandbox API: run / value / settle / wrap never throw, count failures, and report through a safe logger', async () => {
  const lines: string[] = [];
  const sandbox = new Sandbox({ error: (...a: unknown[]) => void lines.push(a.join(' ')), warn: () => {} });
  let cleaned = 0;
  assert.equal(sandbox.run('A', () => 1), true);
  assert.equal(sandbox.run('B', () => { throw new TypeError('x'); }), false);
  assert.equal(sandbox.run('C', () => Promise.reject(new Error('later')), () => cleaned++), true);
  assert.equal(sandbox.value('D', () => 42, 0), 42);
  assert.equal(sandbox.value('E', () => { throw unprintable(); }, 7), 7);
  assert.equal(await sandbox.settle('F', async () => { throw new Error('async'); }, 'fallback'), 'fallback');
  assert.equal(await sandbox.settle('G', () => 'ok', 'fallback'), 'ok');
  sandbox.wrap('H', (_a: number) => { throw new Error('wrapped'); })(1);
  await sleep(10);
  assert.equal(cleaned, 1);
  assert.equal(sandbox.failures, 5);
  assert.deepEqual(lines, ['B threw TypeError: x', 'E threw unprintable error', 'H threw Error: wrapped', 'C rejected Error: later', 'F failed Error: async']
    .sort((a, b) => lines.indexOf(a) - lines.indexOf(b)));
  assert.equal(lines.length, 5);
  // The function form, and a logger that is itself broken in every way.
  const broken = { get error(): never { throw new Error('getter'); }, warn: 5 } as unknown as Logger;
  assert.equal(callSandboxed(() => { throw new Error('x'); }, broken, 'I'), false);
  const safe = safeLogger(broken);
  safe.warn('a');
  safe.error('b');
  safe.info?.('c');
  assert.equal(safeLogger(safe), safe, 'idempotent');
});

t.run();
