// Bounded responses (issue 12, item 9): a configurable cap on the decompressed body, enforced while it streams.
// A body over the cap is refused (the last good config stays); a 1 GiB gzip bomb is refused with peak memory
// under twice the cap on every runtime; a body under the cap is served.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { type Server, createServer } from 'node:http';
import { type SyncStatus, createClient } from '../src/mod.ts';
import { configText, sleep } from './fake-eppo.ts';
import { startScript } from './spawn.ts';

const t = suite('response-cap');
const MiB = 1024 * 1024;

async function listen(handler: Parameters<typeof createServer>[1]): Promise<{ server: Server; baseUrl: string }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, baseUrl: `http://127.0.0.1:${(server.address() as { port: number }).port}/api` };
}

t('a body over maxResponseBytes is refused (declared or streamed); one under it is served', async () => {
  const good = configText(1);
  let mode: 'good' | 'declared' | 'chunked' = 'good';
  const big = `{"flags":{},"pad":"${'x'.repeat(2 * MiB)}"}`;
  const { server, baseUrl } = await listen((_req, res) => {
    if (mode === 'good') res.writeHead(200, { 'content-type': 'application/json' }).end(good);
    else if (mode === 'declared') res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(big.length) }).end(big);
    else {
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no length announced
      res.end(big);
    }
  });
  try {
    for (const m of ['declared', 'chunked'] as const) {
      mode = m;
      const client = createClient({ apiKey: 'k-response-cap', baseUrl, maxResponseBytes: MiB, pollingIntervalMs: 60_000, logger: { error() {}, warn() {} } });
      assert.equal(await client.waitForInitialization(), false, m);
      const s = client.syncStatus() as SyncStatus;
      assert.equal(s.lastStatus, 413, m);
      assert.match(s.lastError ?? '', /larger than the 1048576-byte limit/);
      client.close();
    }
    mode = 'good';
    const client = createClient({ apiKey: 'k-response-cap', baseUrl, maxResponseBytes: MiB, pollingIntervalMs: 60_000 });
    assert.equal(await client.waitForInitialization(), true);
    client.close();
    assert.throws(() => createClient({ apiKey: 'k', baseUrl, maxResponseBytes: 0 }), /maxResponseBytes must be a positive integer/);
  } finally {
    server.close();
  }
});

t('a 1 GiB gzip bomb under the default 64 MiB cap: refused, peak memory under 2x the cap', async () => {
  // The bomb is served from a process of its own: this process holds only the client, as a user's would.
  const bombServer = startScript('gzip-bomb-server', [String(1024 * MiB)]);
  try {
    let started = Date.now();
    while (!/port \d+/.test(bombServer.out())) {
      if (Date.now() - started > 120_000) throw new Error(`bomb server did not start: ${bombServer.err()}`);
      await sleep(50);
    }
    const [, port, wire] = /port (\d+) wire (\d+)/.exec(bombServer.out())!;
    const baseUrl = `http://127.0.0.1:${port}/api`;
    const base = process.memoryUsage().rss;
    let peak = base;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
    started = Date.now();
    const client = createClient({ apiKey: 'k-response-cap', baseUrl, pollingIntervalMs: 60_000, requestTimeoutMs: 60_000, logger: { error() {}, warn() {} } });
    const ok = await client.waitForInitialization();
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);
    const s = client.syncStatus() as SyncStatus;
    client.close();
    assert.equal(ok, false);
    assert.equal(s.lastStatus, 413);
    // No immediate retry of a body over the cap (it would download up to the cap again while the first is garbage).
    assert.equal(bombServer.out().match(/^request$/gm)?.length, 1);
    const grewMiB = (peak - base) / MiB;
    console.log(`GZIP-BOMB 1 GiB decompressed (${(Number(wire) / MiB).toFixed(1)} MiB on the wire): refused after ${Date.now() - started} ms; peak RSS +${grewMiB.toFixed(0)} MiB (cap 64 MiB)`);
    assert.ok(grewMiB < 128, `peak memory grew ${grewMiB.toFixed(0)} MiB`);
  } finally {
    bombServer.child.kill();
    await bombServer.exited;
  }
});

t.run();
