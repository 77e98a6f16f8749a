// A process whose every on(...) listener is async and rejects, with NO unhandledRejection or uncaughtException
// handler installed: the runtime's default (Node and Deno exit 1 on an unhandled rejection) applies. It drives a
// live client through a config change, an outage and the recovery, then prints what it saw and exits normally.
import { createClient } from '../src/mod.ts';
import type { ClientEvent } from '../src/client.ts';
import { configText, startFakeEppo, waitFor } from './fake-eppo.ts';

const EVENTS: ClientEvent[] = ['configurationChanged', 'syncFailed', 'syncRecovered'];
const calls: Record<string, number> = {};
const fake = await startFakeEppo(configText(1));
// Polls 1–2 fail (syncFailed), then the server is back (syncRecovered) with config 2 (configurationChanged).
fake.plan = (n) => (n === 1 || n === 2 ? { kind: 'status', status: 500 } : { kind: 'ok' });
const client = createClient({ apiKey: 'listener-test-key', baseUrl: fake.baseUrl, pollingIntervalMs: 150, requestTimeoutMs: 2_000, logger: { error() {}, warn() {} } });
for (const event of EVENTS) {
  client.on(event, async () => {
    calls[event] = (calls[event] ?? 0) + 1;
    await Promise.resolve();
    throw new Error(`async ${event} listener failed`);
  });
  // A listener that returns a rejected promise without being async, and one that rejects later.
  client.on(event, () => Promise.reject(new Error(`${event} rejected`)));
  client.on(event, () => new Promise((_, reject) => setTimeout(() => reject(new Error(`${event} rejected later`)), 20)));
}
await waitFor('config 1', () => client.getIntegerAssignment('config-version', 'u', {}, -1) === 1, 15_000);
await waitFor('the outage and the recovery', () => (calls.syncFailed ?? 0) > 0 && (calls.syncRecovered ?? 0) > 0, 15_000);
fake.setConfig(configText(2));
await waitFor('config 2', () => client.getIntegerAssignment('config-version', 'u', {}, -1) === 2, 15_000);
// Let the later rejections settle: an unhandled one would end the process here with a non-zero status.
await new Promise((resolve) => setTimeout(resolve, 300));
const value = client.getIntegerAssignment('config-version', 'u', {}, -1);
client.close();
await fake.close();
console.log(JSON.stringify({ calls, value }));
