// Config push from the relay (saltshard serve): clients with configSource { relay, mode } get each change within a
// second by SSE or long-poll, the relay makes one upstream request per poll for all of them (ETag), a broken
// stream falls back to polling, a reconnect resumes by version id, and no client ever goes back to an older config.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { type SaltshardClient, createClient, init } from '../src/mod.ts';
import { createApp } from '../src/server/app.ts';
import { type RunningServer, serve } from '../src/server/serve.ts';
import { type FakeEppo, captureLogger, configText, sleep, startFakeEppo, waitFor } from './fake-eppo.ts';

const t = suite('push');
const figures: Record<string, unknown> = {};

interface Relay {
  fake: FakeEppo;
  relayClient: SaltshardClient;
  server: RunningServer;
  clients: SaltshardClient[];
  done(): Promise<void>;
}

/** A fake Eppo, a relay polling it every `upstreamMs`, and `n` clients of the relay in `mode`. */
async function relay(n: number, mode: 'stream' | 'longpoll' | 'poll', options: { upstreamMs?: number; clientPollMs?: number; port?: number; fetch?: typeof fetch } = {}): Promise<Relay> {
  const fake = await startFakeEppo(configText(1));
  const relayClient = createClient({ apiKey: 'upstream-key', baseUrl: fake.baseUrl, pollingIntervalMs: options.upstreamMs ?? 100, logger: captureLogger().logger, assignmentLogger: { logAssignment() {} } });
  await relayClient.waitForInitialization();
  const server = await serve({ client: relayClient, port: options.port ?? 0, hostname: '127.0.0.1', pollingIntervalMs: options.upstreamMs ?? 100, pushHeartbeatMs: 200 });
  const clients = await Promise.all(Array.from({ length: n }, () => init({
    apiKey: 'relay-client', configSource: { relay: server.url, mode }, pollingIntervalMs: options.clientPollMs ?? 30_000, logger: captureLogger().logger,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  })));
  return {
    fake, relayClient, server, clients,
    async done() {
      for (const c of clients) c.close();
      await server.shutdown();
      await fake.close();
    },
  };
}

const version = (c: SaltshardClient) => c.getIntegerAssignment('config-version', 'u', {}, -1);

/** Change the upstream config; resolve with each client's delay from the relay's load to its first evaluation. */
async function propagate(r: Relay, v: number, timeoutMs: number): Promise<number[]> {
  r.fake.setConfig(configText(v));
  await waitFor(`relay has config ${v}`, () => version(r.relayClient) === v, 5_000);
  const loaded = Date.now();
  const seen = new Map<number, number>();
  await waitFor(`all clients on config ${v}`, () => {
    r.clients.forEach((c, i) => {
      if (!seen.has(i) && version(c) === v) seen.set(i, Date.now() - loaded);
    });
    return seen.size === r.clients.length;
  }, timeoutMs);
  return [...seen.values()].sort((a, b) => a - b);
}

t('stream: 20 clients get each of 3 changes within a second; one upstream request per relay poll, none per client', async () => {
  const r = await relay(20, 'stream');
  try {
    for (const c of r.clients) assert.equal(version(c), 1);
    await waitFor('streams open', () => r.server.app.feed.subscribers === 20, 5_000);
    const before = r.fake.configRequests().length;
    const delays: number[] = [];
    for (const v of [2, 3, 4]) delays.push(...(await propagate(r, v, 1_000)));
    await sleep(300);
    const upstream = r.fake.configRequests().slice(before);
    // The relay alone talks to upstream (only its key), with ETag: three full answers, the rest 304.
    assert.ok(upstream.every((q) => q.query.apiKey === 'upstream-key'));
    assert.equal(upstream.filter((q) => q.answer === '200').length, 3);
    for (const c of r.clients) {
      const s = c.syncStatus()!;
      assert.equal(s.push?.connected, true);
      assert.ok(s.push!.applied >= 3);
    }
    delays.sort((a, b) => a - b);
    figures.stream = { clients: 20, changes: 3, maxMs: delays[delays.length - 1], medianMs: delays[delays.length >> 1], upstreamRequests: upstream.length };
  } finally {
    await r.done();
  }
});

t('long-poll: 5 clients get a change within a second', async () => {
  const r = await relay(5, 'longpoll');
  try {
    await sleep(100);
    const delays = await propagate(r, 2, 1_000);
    figures.longpoll = { clients: 5, maxMs: delays[delays.length - 1] };
    assert.ok(r.server.app.feed.counters.longPollChanges >= 5);
  } finally {
    await r.done();
  }
});

t('a client whose stream is blocked falls back to polling the relay (at pollingIntervalMs)', async () => {
  const blocked: typeof fetch = (url, init) => (String(url).includes('/v1/config/stream') ? Promise.reject(new Error('blocked by a proxy')) : fetch(url, init));
  const r = await relay(2, 'stream', { clientPollMs: 300, fetch: blocked });
  try {
    const delays = await propagate(r, 2, 2_000);
    assert.ok(delays[delays.length - 1] <= 1_000);
    for (const c of r.clients) {
      const s = c.syncStatus()!;
      assert.equal(s.push?.connected, false);
      assert.ok(s.push!.failures >= 1);
    }
  } finally {
    await r.done();
  }
});

t('the relay restarts on the same port: streams reconnect and the next change arrives', async () => {
  const r = await relay(3, 'stream');
  const port = r.server.port;
  await waitFor('streams open', () => r.server.app.feed.subscribers === 3, 5_000);
  await r.server.shutdown();
  await sleep(300);
  r.fake.setConfig(configText(5));
  const relayClient = createClient({ apiKey: 'upstream-key', baseUrl: r.fake.baseUrl, pollingIntervalMs: 100, logger: captureLogger().logger });
  await relayClient.waitForInitialization();
  const server = await serve({ client: relayClient, port, hostname: '127.0.0.1', pushHeartbeatMs: 200 });
  try {
    await waitFor('clients on config 5 after the restart', () => r.clients.every((c) => version(c) === 5), 5_000);
    assert.ok(r.clients.every((c) => c.syncStatus()!.push!.connects >= 2));
  } finally {
    for (const c of r.clients) c.close();
    await server.shutdown();
    await r.fake.close();
  }
});

t('never back to an older config: the upstream rolls back to an earlier createdAt; clients keep the newer one', async () => {
  const r = await relay(3, 'stream', { clientPollMs: 200 });
  try {
    await propagate(r, 3, 1_000);
    // A relay (or a CDN edge) serving an older document: the relay follows it, its clients refuse it.
    r.fake.setConfig(configText(2));
    await waitFor('relay on config 2', () => version(r.relayClient) === 2, 5_000);
    await sleep(600);
    for (const c of r.clients) {
      assert.equal(version(c), 3);
      assert.ok(c.syncStatus()!.push!.refusedOlder >= 1);
    }
  } finally {
    await r.done();
  }
});

t('resumable: Last-Event-ID equal to the current version sends no config; another id gets the current one', async () => {
  const client = createClient({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1/api', numInitialRequestRetries: 0, logger: captureLogger().logger });
  client.setConfiguration(configText(1));
  const server = createApp({ client, pushHeartbeatMs: 50 });
  const read = async (headers: Record<string, string>) => {
    const res = await server.fetch(new Request('http://x/v1/config/stream', { headers }));
    assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
    const reader = res.body!.getReader();
    let text = '';
    const until = Date.now() + 150;
    let pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;
    while (Date.now() < until) {
      pending ??= reader.read();
      const chunk = await Promise.race([pending, sleep(20).then(() => null)]);
      if (chunk === null) continue;
      pending = null;
      if (chunk.value) text += new TextDecoder().decode(chunk.value);
    }
    await reader.cancel();
    return text;
  };
  const etag = server.feed.current()!.etag;
  const fresh = await read({});
  assert.match(fresh, new RegExp(`id: ${etag}\nevent: config\ndata: \\{`));
  const resumed = await read({ 'last-event-id': etag });
  assert.ok(!resumed.includes('event: config'), resumed);
  assert.ok(resumed.includes(': ping'), 'heartbeats');
  // Long-poll: the same ETag waits, then 304; another gets 200 at once.
  const t0 = Date.now();
  const held = await server.fetch(new Request('http://x/v1/config/poll?waitMs=100', { headers: { 'if-none-match': etag } }));
  assert.equal(held.status, 304);
  assert.ok(Date.now() - t0 >= 90);
  const now = await server.fetch(new Request('http://x/v1/config/poll?waitMs=5000', { headers: { 'if-none-match': '"other"' } }));
  assert.equal(now.status, 200);
  assert.equal(now.headers.get('etag'), etag);
  server.beginShutdown();
  client.close();
});

t('openapi.json documents /v1/config/stream and /v1/config/poll, and every answer they give is a documented one', async () => {
  const client = createClient({ apiKey: 'k', baseUrl: 'http://127.0.0.1:1/api', numInitialRequestRetries: 0, logger: captureLogger().logger });
  const server = createApp({ client, token: 'relay-token-0123456789', pushHeartbeatMs: 50, pollingIntervalMs: 60_000 });
  const doc = await (await server.fetch(new Request('http://x/openapi.json'))).json() as { paths: Record<string, { get: any }> };
  const stream = doc.paths['/v1/config/stream']?.get;
  const poll = doc.paths['/v1/config/poll']?.get;
  assert.ok(stream && poll, 'both push routes are documented');
  const params = (op: any) => op.parameters.map((p: any) => `${p.in}:${p.name}`).sort();
  assert.deepEqual(params(stream), ['header:Last-Event-ID', 'query:apiKey', 'query:lastEventId']);
  assert.deepEqual(params(poll), ['header:If-None-Match', 'query:apiKey', 'query:etag', 'query:waitMs']);
  assert.ok(stream.responses['200'].content['text/event-stream'], 'SSE media type');
  assert.ok(poll.responses['200'].content['application/json'] && poll.responses['304'], 'long-poll 200 and 304');
  const documented = (op: any, res: Response, route: string) => assert.ok(op.responses[String(res.status)], `${route} answered ${res.status}, which is not documented`);
  const auth = { authorization: 'Bearer relay-token-0123456789' };
  // No config yet: the long-poll answers 503 (documented), a wrong token 401 (documented).
  const unready = await server.fetch(new Request('http://x/v1/config/poll?waitMs=0', { headers: auth }));
  documented(poll, unready, 'poll');
  assert.equal(unready.status, 503);
  const refused = await server.fetch(new Request('http://x/v1/config/stream?apiKey=wrong'));
  documented(stream, refused, 'stream');
  assert.equal(refused.status, 401);
  client.setConfiguration(configText(1));
  const etag = server.feed.current()!.etag;
  const open = await server.fetch(new Request(`http://x/v1/config/stream?apiKey=relay-token-0123456789&lastEventId=${encodeURIComponent('"old"')}`));
  documented(stream, open, 'stream');
  assert.equal(open.headers.get('content-type')?.split(';')[0], 'text/event-stream');
  assert.equal(open.headers.get('cache-control'), stream.responses['200'].headers['Cache-Control'].schema.const);
  const reader = open.body!.getReader();
  let text = '';
  while (!text.includes('}\n\n')) text += new TextDecoder().decode((await reader.read()).value);
  assert.match(text, new RegExp(`^retry: \\d+\n\nid: ${etag}\nevent: config\ndata: \\{.*\\}\n\n`));
  await reader.cancel();
  for (const [headers, query, status] of [[auth, '?waitMs=50', 200], [{ ...auth, 'if-none-match': etag }, '?waitMs=50', 304], [{}, `?apiKey=relay-token-0123456789&etag=${encodeURIComponent(etag)}&waitMs=50`, 304]] as const) {
    const res = await server.fetch(new Request(`http://x/v1/config/poll${query}`, { headers }));
    documented(poll, res, 'poll');
    assert.equal(res.status, status);
    assert.equal(res.headers.get('etag'), etag);
  }
  server.beginShutdown();
  await client.close();
});

t('upstream outage: the relay keeps serving its last good config to streams and polls; /readyz says stale', async () => {
  const r = await relay(2, 'stream', { upstreamMs: 100 });
  try {
    r.fake.plan = { kind: 'status', status: 503 };
    await sleep(500);
    const ready = await fetch(`${r.server.url}/readyz`);
    const body = await ready.json() as { errorDetails: string };
    assert.equal(ready.status, 503);
    assert.match(body.errorDetails, /stale/);
    const metrics = await (await fetch(`${r.server.url}/metrics`)).text();
    assert.match(metrics, /saltshard_config_stale 1/);
    const relayed = await fetch(`${r.server.url}/api/flag-config/v1/config?apiKey=x`);
    assert.equal(relayed.status, 200);
    for (const c of r.clients) assert.equal(version(c), 1);
    r.fake.plan = { kind: 'ok' };
    await propagate(r, 2, 1_000);
  } finally {
    await r.done();
  }
});

t.after(() => console.log('figures', JSON.stringify(figures)));
t.run();
