// The switch from Eppo's SDK: one program written against @eppo/node-server-sdk's documented API runs against
// Eppo's package and against saltshard, live against the local fake Eppo server; every printed value, details
// object and logged event (minus timestamps and SDK metadata) must be equal. Runs on Node, Bun and Deno.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as eppo from '@eppo/node-server-sdk';
import * as saltshard from '../src/mod.ts';
import { configText, startFakeEppo, waitFor } from './fake-eppo.ts';
import { type ProgramOutput, program } from './fixtures/switch/program.ts';

/** A subject key whose checkout-redesign assignment logs an exposure (not `except`). */
function loggedSubject(client: saltshard.SaltshardClient, attributes: Record<string, string>, except = ''): string {
  for (let i = 0; ; i++) if (`s${i}` !== except && client.evaluate('checkout-redesign', `s${i}`, attributes).doLog) return `s${i}`;
}

function comparable(output: ProgramOutput): unknown {
  const events = output.events.map((e) => {
    const { timestamp: _t, metaData: _m, evaluationDetails, ...rest } = e as unknown as Record<string, unknown>;
    const { configFetchedAt: _f, ...details } = evaluationDetails as Record<string, unknown>;
    return { ...rest, evaluationDetails: details };
  });
  return { lines: output.lines, events };
}

const VALIDATE_KEY_URL = 'https://eppo.cloud/api/flag-overrides/v1/validate-key';

/**
 * Eppo's key validation endpoint for `parseOverrides`, answered locally: `good-key` is valid, any other key gets a
 * 401. Every other request goes to the real fetch. Returns the keys asked about and a restore function.
 */
function fakeKeyValidation(): { keys: string[]; restore: () => void } {
  const realFetch = globalThis.fetch;
  const keys: string[] = [];
  globalThis.fetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url !== VALIDATE_KEY_URL) return realFetch(input, init);
    assert.is(init?.method, 'POST');
    const { key } = JSON.parse(String(init?.body)) as { key: string };
    keys.push(key);
    return key === 'good-key' ? new Response('{}', { status: 200 }) : new Response('{}', { status: 401, statusText: 'Unauthorized' });
  }) as typeof fetch;
  return { keys, restore: () => void (globalThis.fetch = realFetch) };
}

test('a program written for @eppo/node-server-sdk gives identical output on saltshard with only the import changed', async () => {
  const fake = await startFakeEppo(configText(1));
  const quiet = { error: console.error, warn: console.warn };
  const validation = fakeKeyValidation();
  try {
    // Eppo prints its own diagnostics for the blank-subject and type-mismatch calls; they are not output.
    console.error = () => {};
    console.warn = () => {};
    const theirs = comparable(await program(eppo as unknown as Parameters<typeof program>[0], fake.baseUrl));
    const theirKeys = validation.keys.splice(0);
    fake.setConfig(configText(1));
    const ours = comparable(await program(saltshard, fake.baseUrl));
    console.error = quiet.error;
    console.warn = quiet.warn;
    assert.equal(validation.keys, theirKeys, 'the same key validations (a valid key is cached)');
    assert.equal(theirKeys, ['good-key', 'bad-key']);
    const a = theirs as { lines: unknown[]; events: unknown[] };
    const b = ours as { lines: unknown[]; events: unknown[] };
    const differing = a.lines.map((line, i) => [line, b.lines[i]]).filter(([x, y]) => JSON.stringify(x) !== JSON.stringify(y));
    assert.equal(differing, [], 'every line equal');
    assert.is(b.lines.length, a.lines.length);
    assert.equal(b.events, a.events);
    assert.ok(a.lines.length > 60 && a.events.length > 5, `the program exercised the API (${a.lines.length} lines, ${a.events.length} events)`);
  } finally {
    console.error = quiet.error;
    console.warn = quiet.warn;
    validation.restore();
    await fake.close();
  }
});

test('an async custom assignment cache dedupes (has and set return promises)', async () => {
  const events: unknown[] = [];
  const client = saltshard.offlineInit({ flagsConfiguration: configText(1), assignmentLogger: { logAssignment: (e) => void events.push(e) } });
  const store = new Map<string, string>();
  const calls: string[] = [];
  client.useCustomAssignmentCache({
    has: async (e) => { calls.push('has'); await new Promise((r) => setTimeout(r, 2)); return store.get(saltshard.assignmentCacheKeyToString(e)) === saltshard.assignmentCacheValueToString(e); },
    set: async (e) => { calls.push('set'); store.set(saltshard.assignmentCacheKeyToString(e), saltshard.assignmentCacheValueToString(e)); },
  });
  const subject = { country: 'FR' };
  const alice = loggedSubject(client, subject);
  assert.is(client.getStringAssignment('checkout-redesign', alice, subject, 'none'), client.getStringAssignment('checkout-redesign', alice, subject, 'none'));
  await new Promise((r) => setTimeout(r, 30));
  // Both calls asked before either answered: the first two deliveries race, as with any shared store.
  const before = events.length;
  assert.ok(before >= 1);
  client.getStringAssignment('checkout-redesign', alice, subject, 'none');
  await new Promise((r) => setTimeout(r, 30));
  assert.is(events.length, before, 'a repeat after the set settled is not logged again');
  client.getStringAssignment('checkout-redesign', loggedSubject(client, subject, alice), subject, 'none');
  await new Promise((r) => setTimeout(r, 30));
  assert.is(events.length, before + 1, 'a new subject is logged');
});

test('a custom cache that throws or rejects never breaks a getter; the event is still logged', async () => {
  const events: unknown[] = [];
  const errors: unknown[] = [];
  const logger = { error: (...a: unknown[]) => void errors.push(a), warn: () => {} };
  const client = saltshard.offlineInit({ flagsConfiguration: configText(1), logger, assignmentLogger: { logAssignment: (e) => void events.push(e) } });
  client.useCustomAssignmentCache({ has: () => { throw new Error('store down'); }, set: () => Promise.reject(new Error('store down')) });
  const subject = loggedSubject(client, { country: 'US' });
  assert.is.not(client.getStringAssignment('checkout-redesign', subject, { country: 'US' }, 'none'), 'none');
  await new Promise((r) => setTimeout(r, 10));
  assert.is(events.length, 1);
  assert.ok(errors.length >= 1);
  assert.throws(() => client.useCustomAssignmentCache({} as never), /has\(entry\) and set\(entry\)/);
});

test('bandit caches: disabled logs every draw, the expiring one forgets after its timeout', () => {
  let now = 1_000_000;
  const cache = new saltshard.InMemoryAssignmentCache(10, 100, () => now);
  const entry = { subjectKey: 's', flagKey: 'f', banditKey: 'b', actionKey: 'a' };
  assert.is(cache.has(entry), false);
  cache.set(entry);
  assert.is(cache.has(entry), true);
  assert.is(cache.has({ ...entry, actionKey: 'other' }), false);
  now += 100;
  assert.is(cache.has(entry), false, 'expired');
  const lru = new saltshard.InMemoryAssignmentCache(1);
  lru.set(entry);
  lru.set({ ...entry, subjectKey: 't' });
  assert.is(lru.has(entry), false, 'evicted');
});

test('configurationChanged fires only when the flags changed, with the changed keys', () => {
  const client = saltshard.offlineInit({ flagsConfiguration: configText(1) });
  const seen: unknown[] = [];
  client.on('configurationChanged', (keys) => void seen.push(keys));
  client.setConfiguration(configText(1));
  assert.equal(seen, [], 'the same flags again: no event');
  client.setConfiguration(configText(2));
  assert.equal(seen, [['config-version']]);
});

test('init warns once, naming options it does not know (Eppo options it implements are known)', async () => {
  const fake = await startFakeEppo(configText(1));
  const warnings: string[] = [];
  const logger = { error: () => {}, warn: (...a: unknown[]) => void warnings.push(a.join(' ')) };
  // Every option saltshard reads is known (maxResponseBytes was once warned about as unknown).
  const options = { apiKey: 'k', baseUrl: fake.baseUrl, logger, pollingIntervalMs: 60_000, maxResponseBytes: 8 << 20, pollingIntervallMs: 5, numPollRequestRetries: 3, eventTracking: { enabled: false, batchSise: 10 } };
  try {
    const client = await saltshard.init(options as saltshard.InitOptions);
    client.stopPolling();
    assert.equal(warnings.filter((w) => w.includes('option')), [
      'init(): unknown option ignored: pollingIntervallMs',
      'init(): unknown eventTracking option ignored: batchSise',
    ]);
  } finally {
    await fake.close();
  }
});

for (const etag of [true, false]) {
  test(`live polls returning the same flags emit no change event (${etag ? 'with' : 'without'} ETag); a change emits its keys once`, async () => {
    const fake = await startFakeEppo(configText(1));
    // Without ETag: the server's answer loses the header, so every poll is a full 200 with the same flags.
    const fetchFn = async (url: string | URL | Request, init?: RequestInit) => {
      const r = await fetch(url, init);
      if (etag) return r;
      const headers = new Headers(r.headers);
      headers.delete('etag');
      return new Response(await r.text(), { status: r.status, headers });
    };
    const client = await saltshard.init({ apiKey: 'change-key', baseUrl: fake.baseUrl, pollingIntervalMs: 40, logger: { error: () => {}, warn: () => {} }, fetch: fetchFn as never });
    const changes: unknown[] = [];
    client.on('configurationChanged', (keys) => void changes.push(keys));
    try {
      const start = fake.configRequests().length;
      await waitFor('four polls', () => fake.configRequests().length >= start + 4, 5_000);
      assert.equal(changes, [], 'no change, no event');
      const answers = fake.configRequests().slice(start).map((r) => r.answer);
      assert.ok(answers.every((a) => a === (etag ? '304' : '200')), `answers ${answers}`);
      fake.setConfig(configText(2));
      await waitFor('the change', () => changes.length > 0, 5_000);
      const after = fake.configRequests().length;
      await waitFor('three more polls', () => fake.configRequests().length >= after + 3, 5_000);
      assert.equal(changes, [['config-version']]);
    } finally {
      client.stopPolling();
      await fake.close();
    }
  });
}

test.run();
