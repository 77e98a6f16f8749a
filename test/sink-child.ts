// A process that logs exposures into a sink and waits to be terminated: SIGTERM must flush them within the deadline.
// Usage: sink-child <collector url> <events>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { offlineInit } from '../src/mod.ts';
import { WebhookSink } from '../src/sinks.ts';
import { ROOT } from './support.ts';

const [url, count] = process.argv.slice(2);
// A long flush interval: without the SIGTERM flush nothing would be sent before the process ends.
const sink = new WebhookSink({ url, flushIntervalMs: 60_000, batchSize: 1_000_000, closeTimeoutMs: 5_000 });
const client = offlineInit({ flagsConfiguration: readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8'), assignmentLogger: sink });
for (let i = 0; i < Number(count); i++) client.getStringAssignment('checkout-redesign', `child-${i}`, { country: 'US', appVersion: '1.0.0' }, 'none');
console.log(`ready ${sink.stats().accepted}`);
// Keep the process alive until the signal.
setInterval(() => {}, 1_000);
