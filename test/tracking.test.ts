// Eppo's event tracking (track, setContext, eventTracking options) against a local ingestion collector that fails,
// stalls, reports events as not ingested and restarts: every event is ingested or counted, close() delivers within
// its deadline, nothing is ever thrown into the caller. Also numPollRequestRetries (polling stops after 1 + n
// failed polls, as Eppo's poller) and the ingestion URL an SDK key names.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_OP_EVENT_DISPATCHER, type SaltshardClient, type TrackedEvent, createClient, init, offlineInit } from '../src/mod.ts';
import { ingestionUrlFromKey } from '../src/events/tracking.ts';
import { startCollector } from './fake-collector.ts';
import { captureLogger, configText, sleep, startFakeEppo, waitFor } from './fake-eppo.ts';
import * as eppo from '@eppo/node-server-sdk';
import { applicationLogger } from '@eppo/js-client-sdk-common';
import { ROOT } from './support.ts';

const t = suite('tracking');
const CONFIG = readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8');
const b64 = (s: string) => Buffer.from(s).toString('base64');
const keyFor = (params: string) => `zCsQuoHJxVPp895.${b64(params)}`;
const configFetch = (url: string, init: RequestInit): Promise<Response> =>
  url.includes('/flag-config/') ? Promise.resolve(new Response(CONFIG, { status: 200 })) : fetch(url, init);

t('the ingestion URL comes from the SDK key as in Eppo: eh= host (https:// unless given), else cs= under e.eppo.cloud', () => {
  assert.equal(ingestionUrlFromKey(keyFor('cs=abc123&eh=abc123.e.eppo.cloud')), 'https://abc123.e.eppo.cloud/v0/i');
  assert.equal(ingestionUrlFromKey(keyFor('eh=http://127.0.0.1:9999/')), 'http://127.0.0.1:9999/v0/i');
  assert.equal(ingestionUrlFromKey(keyFor('cs=team7')), 'https://team7.e.eppo.cloud/v0/i');
  assert.equal(ingestionUrlFromKey(keyFor('other=1')), null);
  assert.equal(ingestionUrlFromKey('plainkey'), null);
  assert.equal(ingestionUrlFromKey('a.%%%not-base64'), null);
});

t('track(): every event ingested exactly once or retried, in batches, with context and token, through 500/429/resets/stalls/partial failures and a restart', async () => {
  const collector = await startCollector();
  collector.stallMs = 300;
  const faults = ['500', 'partial', 'ok', '429', 'reset', 'partial', 'stall', 'ok', 'ok'] as const;
  collector.plan = (n) => faults[n % faults.length];
  const apiKey = keyFor(`eh=http://127.0.0.1:${collector.port}`);
  const { logger } = captureLogger();
  const client = await init({
    apiKey, baseUrl: 'http://config.invalid', logger, assignmentLogger: { logAssignment() {} }, fetch: configFetch,
    eventTracking: { enabled: true, batchSize: 100, deliveryIntervalMs: 20, retryIntervalMs: 10, maxRetryDelayMs: 40, maxRetries: 2, closeTimeoutMs: 20_000 },
  });
  try {
    client.setContext('region', 'eu');
    client.setContext('build', 42);
    const N = 3000;
    const started = performance.now();
    for (let i = 0; i < N; i++) client.track('purchase', { i, amount: i % 97 });
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 2_000, `track() only queues (${elapsed.toFixed(0)} ms for ${N})`);
    await sleep(150);
    await collector.restart(300);
    await client.close();
    const m = client.metrics().tracking!;
    assert.deepEqual(m, { accepted: N, delivered: N, dropped: 0, queued: 0 });
    // Exactly the N uuids arrived (a stalled-then-cut request can be re-sent; the uuid tells the duplicates apart).
    assert.equal(collector.ids.size, N);
    const seen = new Set(collector.events.map((e) => (e.payload as { i: number }).i));
    assert.equal(seen.size, N);
    const e = collector.events[0] as { uuid: string; timestamp: number; type: string; payload: unknown };
    assert.deepEqual(Object.keys(e), ['uuid', 'type', 'timestamp', 'payload']);
    assert.match(e.uuid, /^[0-9a-f-]{36}$/);
    assert.ok(Math.abs(e.timestamp - Date.now()) < 120_000);
    assert.equal(e.type, 'purchase');
    assert.ok(collector.faults.partial > 0 && collector.faults['500'] > 0 && collector.faults.reset > 0, JSON.stringify(collector.faults));
    for (const r of collector.ingestion) {
      assert.equal(r.token, apiKey);
      assert.deepEqual(r.context, { region: 'eu', build: 42 });
    }
    assert.ok(collector.ingestion.every((r) => r !== undefined) && collector.requests >= Math.ceil(N / 100));
  } finally {
    await client.close();
    await collector.close();
  }
});

t('same wire as Eppo\'s own SDK: @eppo/node-server-sdk and saltshard, with only the import changed, post the same events and context to the same ingestion URL', async () => {
  applicationLogger.level = 'error';
  const collector = await startCollector();
  const fake = await startFakeEppo(configText(1));
  const host = `eh=http://127.0.0.1:${collector.port}`;
  const keys = { eppo: `eppoKeyAAAAAAAA.${b64(host)}`, saltshard: `saltKeyBBBBBBBB.${b64(host)}` };
  // Eppo's node SDK keeps its queue in <cwd>/.queues: run it from a scratch directory.
  const cwd = process.cwd();
  const scratch = mkdtempSync(join(tmpdir(), 'saltshard-eppo-queue-'));
  process.chdir(scratch);
  const clients: { name: keyof typeof keys; client: { track(t: string, p: Record<string, unknown>): void; setContext(k: string, v: string | number | boolean | null): void; stopPolling(): void } }[] = [];
  try {
    const program = async (sdk: { init(o: any): Promise<any> }, name: keyof typeof keys) => {
      const client = await sdk.init({ apiKey: keys[name], baseUrl: fake.baseUrl, assignmentLogger: { logAssignment() {} }, eventTracking: { enabled: true, deliveryIntervalMs: 50 } });
      clients.push({ name, client });
      client.setContext('region', 'eu');
      client.setContext('build', 42);
      client.track('purchase', { amount: 3, items: ['a', 'b'] });
      client.track('view', { page: 'home' });
    };
    await program(eppo, 'eppo');
    await program({ init: (o) => init({ ...o, logger: captureLogger().logger }) }, 'saltshard');
    await waitFor('4 events ingested', () => collector.events.length >= 4, 20_000);
    const shape = (token: string) => {
      const requests = collector.ingestion.filter((r) => r.token === token);
      return { contexts: requests.map((r) => r.context), count: requests.length };
    };
    assert.deepEqual(shape(keys.saltshard).contexts, shape(keys.eppo).contexts, 'same context');
    assert.deepEqual(shape(keys.eppo).contexts[0], { region: 'eu', build: 42 });
    const strip = (e: Record<string, unknown>) => ({ keys: Object.keys(e), type: e.type, payload: e.payload, uuid: typeof e.uuid, timestamp: typeof e.timestamp });
    const events = collector.events.map(strip);
    assert.equal(events.length, 4);
    // Each SDK sent its two events in order; both look the same but for uuid and timestamp.
    const eppoEvents = events.filter((_, i) => i < 2);
    const ours = events.filter((_, i) => i >= 2);
    assert.deepEqual(ours, eppoEvents);
    assert.deepEqual(eppoEvents[0], { keys: ['uuid', 'type', 'timestamp', 'payload'], type: 'purchase', payload: { amount: 3, items: ['a', 'b'] }, uuid: 'string', timestamp: 'number' });
  } finally {
    process.chdir(cwd);
    for (const { client } of clients) client.stopPolling();
    await (clients.find((c) => c.name === 'saltshard')?.client as SaltshardClient | undefined)?.close();
    rmSync(scratch, { recursive: true, force: true });
    await collector.close();
    await fake.close();
  }
});

t('track() never throws; bad events and a disabled tracker are counted or warned about; setContext checks values as Eppo', async () => {
  const collector = await startCollector();
  const { logger, text } = captureLogger();
  const client = await init({
    apiKey: 'k', baseUrl: 'http://config.invalid', logger, assignmentLogger: { logAssignment() {} }, fetch: configFetch,
    eventTracking: { enabled: true, ingestionUrl: `http://127.0.0.1:${collector.port}/ingest`, deliveryIntervalMs: 20 },
  });
  try {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    client.track('a', cyclic);
    client.track('b', { n: 10n } as unknown as Record<string, unknown>);
    client.track('c', { big: 'x'.repeat(5000) });
    client.track(undefined as unknown as string, null as unknown as Record<string, unknown>);
    client.track('ok', { fine: true });
    assert.throws(() => client.setContext('k', { nested: 1 } as unknown as string), /Context value must be a string, number, boolean, or null/);
    assert.throws(() => client.setContext('k', 'v'.repeat(3000)), /total context size/);
    client.setContext('k', null);
    await client.close();
    assert.deepEqual(client.metrics().tracking, { accepted: 5, delivered: 2, dropped: 3, queued: 0 });
    assert.deepEqual(collector.ingestion.map((r) => r.context), [{ k: null }]);
    assert.ok(text('warn').some((w) => /dropped 1 event/.test(w)), text('warn').join('\n'));
  } finally {
    await collector.close();
  }

  // Tracking off (Eppo's default): events are discarded with one warning, setContext does nothing.
  const off = captureLogger();
  const plain = await init({ apiKey: 'k', baseUrl: 'http://config.invalid', logger: off.logger, assignmentLogger: { logAssignment() {} }, fetch: configFetch });
  plain.track('a', {});
  plain.track('b', {});
  plain.setContext('k', { nested: 1 } as unknown as string);
  assert.equal(off.text('warn').filter((w) => w.includes('track()')).length, 1);
  assert.equal(plain.metrics().tracking, null);
  await plain.close();
});

t('close(): a collector that never answers costs at most the deadline; the rest is counted as dropped', async () => {
  const collector = await startCollector();
  collector.plan = () => 'stall';
  collector.stallMs = 60_000;
  const { logger } = captureLogger();
  const client = await init({
    apiKey: 'k', baseUrl: 'http://config.invalid', logger, assignmentLogger: { logAssignment() {} }, fetch: configFetch,
    eventTracking: { enabled: true, ingestionUrl: collector.url, deliveryIntervalMs: 20, closeTimeoutMs: 800 },
  });
  try {
    for (let i = 0; i < 250; i++) client.track('view', { i });
    const started = Date.now();
    await client.close();
    const took = Date.now() - started;
    assert.ok(took < 5_000, `close() took ${took} ms`);
    const m = client.metrics().tracking!;
    assert.deepEqual(m, { accepted: 250, delivered: 0, dropped: 250, queued: 0 });
  } finally {
    await collector.close();
  }
});

t('setEventDispatcher (Eppo): a dispatcher of your own gets Eppo\'s events and the context; one that throws never reaches track(); NO_OP discards', async () => {
  const { logger, text } = captureLogger();
  const client = offlineInit({ flagsConfiguration: CONFIG, logger });
  const got: TrackedEvent[] = [];
  const context: Record<string, unknown> = {};
  client.setEventDispatcher({ dispatch: (e) => void got.push(e), attachContext: (k, v) => void (context[k] = v) });
  client.setContext('region', 'eu');
  client.track('purchase', { amount: 3 });
  assert.equal(got.length, 1);
  assert.deepEqual(Object.keys(got[0]), ['uuid', 'type', 'timestamp', 'payload']);
  assert.deepEqual([got[0].type, got[0].payload, context], ['purchase', { amount: 3 }, { region: 'eu' }]);
  client.setEventDispatcher({ dispatch: () => { throw new Error('dispatcher down'); }, attachContext() {} });
  client.track('purchase', {});
  assert.match(text('error').join('\n'), /Event dispatcher threw/);
  client.setEventDispatcher(NO_OP_EVENT_DISPATCHER);
  client.track('ignored', {});
  client.setContext('k', 'v');
  assert.equal(text('warn').filter((w) => w.includes('track()')).length, 0, 'an explicit no-op dispatcher is not warned about');
  assert.throws(() => client.setEventDispatcher({ dispatch() {} } as never), /dispatch\(event\) and attachContext/);
  assert.equal(client.metrics().tracking, null);
  await client.close();
});

async function pollingClient(numPollRequestRetries: number | undefined): Promise<{ client: SaltshardClient; requests: () => number; errors: () => string[] }> {
  let requests = 0;
  const { logger, text } = captureLogger();
  const client = await init({
    apiKey: 'k', baseUrl: 'http://config.invalid', logger, assignmentLogger: { logAssignment() {} }, pollingIntervalMs: 100,
    ...(numPollRequestRetries === undefined ? {} : { numPollRequestRetries }),
    fetch: async () => (requests++ === 0 ? new Response(CONFIG, { status: 200 }) : new Response('down', { status: 500 })),
  });
  return { client, requests: () => requests, errors: () => text('error') };
}

t('numPollRequestRetries: polling stops after 1 + n failed polls in a row (Eppo); unset, it never stops', async () => {
  const eppoLike = await pollingClient(2);
  const forever = await pollingClient(undefined);
  try {
    await waitFor('polling to stop', () => eppoLike.client.syncStatus()?.polling === false, 10_000);
    assert.equal(eppoLike.requests(), 1 + 3, '1 start fetch, then 3 failed polls');
    assert.match(eppoLike.errors().join('\n'), /Config polling stopped after 3 failed polls in a row \(numPollRequestRetries: 2\)/);
    await sleep(600);
    assert.equal(eppoLike.requests(), 4, 'no poll after the stop');
    assert.equal(eppoLike.client.getStringAssignment('checkout-redesign', 'u', {}, 'd') !== undefined, true);
    assert.ok(forever.requests() > 4, `saltshard's default keeps polling (${forever.requests()} requests)`);
    assert.equal(forever.client.syncStatus()?.polling, true);
  } finally {
    await eppoLike.client.close();
    await forever.client.close();
  }
  assert.throws(() => createClient({ apiKey: 'k', numPollRequestRetries: -1 }), /numPollRequestRetries must be an integer/);
  assert.throws(() => createClient({ apiKey: 'k', eventTracking: { enabled: true, ingestionUrl: 'ftp://x' } }), /ingestionUrl must be http/);
});

t.run();
