// The OpenFeature provider, exercised through the OpenFeature server SDK itself.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type Hook, OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import { offlineInit } from '../src/mod.ts';
import { SaltshardProvider, flatten } from '../src/openfeature.ts';
import { ROOT } from './support.ts';

const t = suite('openfeature');
const CONFIG = readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8');
const quiet = { error() {}, warn() {} };

t('resolves every type with value, variant, reason and metadata mapped from Eppo', async () => {
  const events: unknown[] = [];
  const client = offlineInit({ flagsConfiguration: CONFIG, logger: quiet, assignmentLogger: { logAssignment: (e) => void events.push(e) } });
  await OpenFeature.setProviderAndWait('t1', new SaltshardProvider(client));
  const of = OpenFeature.getClient('t1');
  const ctx = { targetingKey: 'user-2', country: 'FR', sessions: 240, appVersion: '2.5.0' };

  const s = await of.getStringDetails('checkout-redesign', 'none', ctx);
  assert.equal(s.value, client.getStringAssignment('checkout-redesign', 'user-2', { country: 'FR' }, 'none'));
  assert.equal(s.reason, 'TARGETING_MATCH');
  assert.equal(s.variant, s.value);
  assert.equal(s.flagMetadata.allocationKey, 'experiment');
  assert.equal(s.flagMetadata.flagEvaluationCode, 'MATCH');

  const n = await of.getNumberDetails('results-per-page', 0, ctx);
  assert.deepEqual([n.value, n.variant, n.reason], [20, 'twenty', 'TARGETING_MATCH']);
  const f = await of.getNumberDetails('price-multiplier', 0, ctx);
  assert.deepEqual([f.value, f.reason], [1, 'STATIC']);
  const o = await of.getObjectDetails('onboarding-copy', {}, ctx);
  assert.equal(o.reason, 'SPLIT');
  assert.deepEqual(Object.keys(o.value as object), ['title', 'steps']);
  const b = await of.getBooleanDetails('legacy-banner', true, ctx);
  assert.deepEqual([b.value, b.reason, b.errorCode], [true, 'DISABLED', undefined]);
  assert.ok(events.length >= 2, 'exposures are logged through the client');
});

t('maps failures to OpenFeature error codes and returns the default', async () => {
  const cfg = JSON.parse(CONFIG);
  cfg.flags['broken'] = { variationType: 'TEXT' };
  cfg.flags['no-match'] = { ...cfg.flags['results-per-page'], allocations: [] };
  await OpenFeature.setProviderAndWait('t2', new SaltshardProvider(offlineInit({ flagsConfiguration: cfg, logger: quiet })));
  const of = OpenFeature.getClient('t2');
  const ctx = { targetingKey: 'u' };
  const missing = await of.getBooleanDetails('nope', false, ctx);
  assert.deepEqual([missing.value, missing.reason, missing.errorCode], [false, 'ERROR', 'FLAG_NOT_FOUND']);
  const mismatch = await of.getBooleanDetails('checkout-redesign', false, ctx);
  assert.deepEqual([mismatch.reason, mismatch.errorCode], ['ERROR', 'TYPE_MISMATCH']);
  const broken = await of.getStringDetails('broken', 'd', ctx);
  assert.deepEqual([broken.value, broken.errorCode], ['d', 'PARSE_ERROR']);
  const none = await of.getNumberDetails('no-match', 7, ctx);
  assert.deepEqual([none.value, none.reason, none.errorCode], [7, 'DEFAULT', undefined]);
  const noKey = await of.getStringDetails('checkout-redesign', 'd', { country: 'US' });
  assert.deepEqual([noKey.value, noKey.errorCode], ['d', 'TARGETING_KEY_MISSING']);
});

t('hooks see the exposure information in flagMetadata', async () => {
  const seen: Record<string, unknown>[] = [];
  const hook: Hook = { after: (_ctx, details) => void seen.push({ ...details.flagMetadata, variant: details.variant }) };
  await OpenFeature.setProviderAndWait('t3', new SaltshardProvider(offlineInit({ flagsConfiguration: CONFIG, logger: quiet })));
  const of = OpenFeature.getClient('t3');
  of.addHooks(hook);
  await of.getNumberValue('results-per-page', 0, { targetingKey: 'u', sessions: 500 });
  assert.deepEqual(seen, [{ flagEvaluationCode: 'MATCH', environment: 'Example', allocationKey: 'power-users', variant: 'twenty' }]);
});

t('flatten() keeps primitives, dates as ISO, nested objects with dots', () => {
  assert.deepEqual(flatten({ a: 1, b: 'x', c: true, d: null, e: new Date(0), f: { g: 2, h: { i: 'j' } }, k: [1], l: undefined }), {
    a: 1, b: 'x', c: true, d: null, e: '1970-01-01T00:00:00.000Z', 'f.g': 2, 'f.h.i': 'j',
  });
});

t('a live provider reports READY, CONFIGURATION_CHANGED, STALE during an outage and READY on recovery', async () => {
  let mode: 'v1' | 'v2' | 'down' = 'v1';
  const v2 = JSON.parse(CONFIG);
  v2.flags['results-per-page'].variations.twenty.value = 25;
  const server = createServer((_req, res) => {
    if (mode === 'down') return void res.writeHead(503).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(mode === 'v1' ? CONFIG : JSON.stringify(v2));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  const provider = new SaltshardProvider({ apiKey: 'k', baseUrl: `http://127.0.0.1:${port}/api`, pollingIntervalMs: 60, logger: quiet });
  const seen: string[] = [];
  for (const e of [ProviderEvents.Ready, ProviderEvents.ConfigurationChanged, ProviderEvents.Stale]) provider.events.addHandler(e, (d) => void seen.push(e === ProviderEvents.ConfigurationChanged ? `${e}:${((d?.flagsChanged ?? []) as string[]).join()}` : e));
  try {
    await OpenFeature.setProviderAndWait('t4', provider);
    const of = OpenFeature.getClient('t4');
    const ctx = { targetingKey: 'u', sessions: 500 };
    assert.equal(await of.getNumberValue('results-per-page', 0, ctx), 20);
    mode = 'v2';
    await waitFor(async () => (await of.getNumberValue('results-per-page', 0, ctx)) === 25);
    mode = 'down';
    await waitFor(() => seen.includes(ProviderEvents.Stale));
    assert.equal(await of.getNumberValue('results-per-page', 0, ctx), 25, 'the last good config is served while stale');
    mode = 'v2';
    await waitFor(() => seen.filter((e) => e === ProviderEvents.Ready).length >= 1 && seen.lastIndexOf(ProviderEvents.Ready) > seen.indexOf(ProviderEvents.Stale));
    assert.ok(seen.includes(`${ProviderEvents.ConfigurationChanged}:results-per-page`), seen.join(' '));
  } finally {
    await OpenFeature.clearProviders();
    server.close();
  }
});

t('a provider whose config cannot be loaded fails initialize with a GeneralError carrying the cause', async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  const provider = new SaltshardProvider({ apiKey: 'secret-of-key', baseUrl: `http://127.0.0.1:${port}/api`, numInitialRequestRetries: 0, logger: quiet });
  try {
    const err = await provider.initialize().then(() => null, (e: Error & { code?: string; cause?: unknown }) => e);
    assert.ok(err !== null, 'initialize must reject');
    assert.equal(err.code, 'GENERAL');
    assert.ok(err.cause instanceof Error, 'the error has a cause');
    assert.match((err.cause as Error).message, /^Config fetch failed: network error/);
    assert.match(err.message, /no flag configuration could be loaded \(Config fetch failed: network error/);
    assert.ok(!err.message.includes('secret-of-key') && !(err.cause as Error).message.includes('secret-of-key'));
  } finally {
    await provider.onClose();
  }
});

async function waitFor(check: () => boolean | Promise<boolean>, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

t.run();
