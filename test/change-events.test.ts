// Change events that mean a change: per-flag listeners (`on('change:<flagKey>')`), in plain and obfuscated configs,
// and the OpenFeature provider's PROVIDER_CONFIGURATION_CHANGED (with flagsChanged) only when flags changed — for
// configs set by hand and for live polls with and without ETag.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { OpenFeature, ProviderEvents } from '@openfeature/server-sdk';
import * as saltshard from '../src/mod.ts';
import { SaltshardProvider } from '../src/openfeature.ts';
import { configText, startFakeEppo, waitFor } from './fake-eppo.ts';
import { TEST_DATA, hasTestData } from './support.ts';

const quiet = { error: () => {}, warn: () => {} };

/** configText(1) with one flag's definition changed. */
function withChangedFlag(flagKey: string): string {
  const doc = JSON.parse(configText(1)) as { flags: Record<string, { enabled: boolean }> };
  doc.flags[flagKey].enabled = !doc.flags[flagKey].enabled;
  return JSON.stringify(doc);
}

test('change:<flagKey> fires for that flag only, once per change, with the flag key; removal stops it', () => {
  const client = saltshard.offlineInit({ flagsConfiguration: configText(1), logger: quiet });
  const seen: unknown[] = [];
  const all: unknown[] = [];
  const off = client.on('change:new-search', (key) => void seen.push(key));
  client.on('configurationChanged', (keys) => void all.push(keys));
  client.setConfiguration(configText(1));
  client.setConfiguration(withChangedFlag('checkout-redesign'));
  assert.equal(seen, [], 'the same flags, then another flag changed: nothing for new-search');
  client.setConfiguration(withChangedFlag('new-search'));
  assert.equal(seen, ['new-search']);
  assert.equal(all, [['checkout-redesign'], ['checkout-redesign', 'new-search']]);
  client.setConfiguration(withChangedFlag('new-search'));
  assert.equal(seen, ['new-search'], 'the same again: nothing');
  off();
  client.setConfiguration(configText(1));
  assert.equal(seen, ['new-search'], 'removed');
});

test('a per-flag listener alone is enough for changes to be computed; a throwing one is sandboxed', () => {
  const errors: string[] = [];
  const client = saltshard.offlineInit({ flagsConfiguration: configText(1), logger: { error: (...a: unknown[]) => void errors.push(a.join(' ')), warn: () => {} } });
  const seen: string[] = [];
  client.on('change:config-version', () => { throw new Error('listener broke'); });
  client.on('change:config-version', (key) => void seen.push(key as string));
  client.setConfiguration(configText(2));
  assert.equal(seen, ['config-version']);
  assert.ok(errors.some((e) => e.includes('A change:<flagKey> listener threw')));
});

test('obfuscated configs: a per-flag listener on the plain key fires', () => {
  if (!hasTestData('obfuscated change events')) return;
  const text = readFileSync(join(TEST_DATA, 'ufc', 'flags-v1-obfuscated.json'), 'utf8');
  const client = saltshard.offlineInit({ flagsConfiguration: text, logger: quiet });
  const seen: unknown[] = [];
  client.on('change:numeric_flag', (key) => void seen.push(key));
  client.on('change:kill-switch', (key) => void seen.push(key));
  const doc = JSON.parse(text) as { flags: Record<string, { enabled: boolean }> };
  const hashed = Object.keys(doc.flags).find((k) => k === md5('numeric_flag'));
  assert.ok(hashed, 'numeric_flag is in the obfuscated test config');
  doc.flags[hashed!].enabled = !doc.flags[hashed!].enabled;
  client.setConfiguration(JSON.stringify(doc));
  assert.equal(seen, ['numeric_flag']);
});

test('OpenFeature: PROVIDER_CONFIGURATION_CHANGED only on a real change, with flagsChanged', async () => {
  const client = saltshard.offlineInit({ flagsConfiguration: configText(1), logger: quiet });
  const provider = new SaltshardProvider(client);
  await OpenFeature.setProviderAndWait('change-events', provider);
  const changes: unknown[] = [];
  OpenFeature.getClient('change-events').addHandler(ProviderEvents.ConfigurationChanged, (d) => void changes.push(d?.flagsChanged));
  client.setConfiguration(configText(1));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(changes, [], 'the same flags: no event');
  client.setConfiguration(withChangedFlag('results-per-page'));
  await waitFor('the event', () => changes.length > 0, 5_000);
  assert.equal(changes, [['results-per-page']]);
  await OpenFeature.clearProviders();
});

for (const etag of [true, false]) {
  test(`OpenFeature over a live client: polls with the same flags emit nothing (${etag ? 'with' : 'without'} ETag); a change emits flagsChanged once`, async () => {
    const fake = await startFakeEppo(configText(1));
    const fetchFn = async (url: string | URL | Request, init?: RequestInit) => {
      const r = await fetch(url, init);
      if (etag) return r;
      const headers = new Headers(r.headers);
      headers.delete('etag');
      return new Response(await r.text(), { status: r.status, headers });
    };
    const provider = new SaltshardProvider({ apiKey: `of-change-${etag}`, baseUrl: fake.baseUrl, pollingIntervalMs: 40, logger: quiet, fetch: fetchFn as never });
    const changes: unknown[] = [];
    try {
      await OpenFeature.setProviderAndWait(`live-${etag}`, provider);
      OpenFeature.getClient(`live-${etag}`).addHandler(ProviderEvents.ConfigurationChanged, (d) => void changes.push(d?.flagsChanged));
      const start = fake.configRequests().length;
      await waitFor('four polls', () => fake.configRequests().length >= start + 4, 5_000);
      assert.equal(changes, []);
      fake.setConfig(configText(2));
      await waitFor('the change', () => changes.length > 0, 5_000);
      const after = fake.configRequests().length;
      await waitFor('three more polls', () => fake.configRequests().length >= after + 3, 5_000);
      assert.equal(changes, [['config-version']]);
    } finally {
      await OpenFeature.clearProviders();
      await fake.close();
    }
  });
}

function md5(text: string): string {
  return createHash('md5').update(text).digest('hex');
}

test.run();
