// One service instance for the shared-dedupe test: evaluates the same subjects as its siblings, logging through
// dedupedLogger(RedisAssignmentCache); phase 1 prints the exposures it logged; on "go" (stdin), phase 2 runs getters
// for `ms` while the parent stops and kills Redis, and prints getter and decision latencies.
// Usage: redis-child <port> <seed> <subjects> <phase 2 ms> <timeout ms>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { offlineInit } from '../src/mod.ts';
import { RedisAssignmentCache, dedupedLogger } from '../src/redis.ts';
import { mulberry32 } from './gen-config.ts';
import { ROOT } from './support.ts';

const [port, seed, subjects, phase2Ms] = process.argv.slice(2, 6).map(Number);
const TIMEOUT_MS = Number(process.argv[6] ?? 50);
const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const cache = new RedisAssignmentCache({ port, timeoutMs: TIMEOUT_MS, logger: quiet });
const logged: string[] = [];
const calledAt = new Map<string, number>();
let maxDecisionMs = 0;
const client = offlineInit({
  flagsConfiguration: readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8'),
  assignmentLogger: dedupedLogger(cache, {
    logAssignment(e) {
      const id = `${e.featureFlag}|${e.subject}`;
      logged.push(id);
      const at = calledAt.get(id);
      if (at !== undefined) maxDecisionMs = Math.max(maxDecisionMs, performance.now() - at);
    },
  }, quiet),
});
// Yield to I/O as a server does between requests (setImmediate alone does not let Deno poll sockets).
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));
const FLAGS = ['checkout-redesign', 'new-search'];
const evaluate = (subject: string) => {
  for (const f of FLAGS) calledAt.set(`${f}|${subject}`, performance.now());
  const t0 = performance.now();
  client.getStringAssignment('checkout-redesign', subject, { country: 'US', appVersion: '1.0.0' }, 'none');
  client.getBooleanAssignment('new-search', subject, { country: 'US', appVersion: '1.0.0' }, false);
  return performance.now() - t0;
};

for (let i = 0; i < 200 && !cache.stats().connected; i++) await new Promise((r) => setTimeout(r, 10));
// Warm up (config compile, WASM instance, JIT) as a service does before taking traffic; not counted.
evaluate('warm-up');
await new Promise((r) => setTimeout(r, TIMEOUT_MS + 100));
logged.length = 0;
const warm = cache.stats();
// Phase 1: all subjects, in this instance's own order.
const order = Array.from({ length: subjects }, (_, i) => i);
const rand = mulberry32(seed);
for (let i = order.length - 1; i > 0; i--) {
  const j = Math.floor(rand() * (i + 1));
  [order[i], order[j]] = [order[j], order[i]];
}
for (let k = 0; k < order.length; k++) {
  evaluate(`user-${order[k]}`);
  if (k % 50 === 49) await tick();
}
await new Promise((r) => setTimeout(r, 300));
const after = cache.stats();
console.log(JSON.stringify({ phase: 1, logged, stats: { ...after, fallbacks: after.fallbacks - warm.fallbacks, claims: after.claims - warm.claims } }));

// Phase 2, on the parent's word.
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
const getterMs: number[] = [];
const until = performance.now() + phase2Ms;
for (let k = 0; performance.now() < until; k++) {
  getterMs.push(evaluate(`late-${seed}-${k}`));
  if (k % 20 === 19) await tick();
}
await new Promise((r) => setTimeout(r, TIMEOUT_MS * 3));
getterMs.sort((a, b) => a - b);
console.log(JSON.stringify({
  phase: 2, calls: getterMs.length * 2, maxGetterMs: getterMs[getterMs.length - 1], p99GetterMs: getterMs[Math.floor(getterMs.length * 0.99)],
  maxDecisionMs, stats: cache.stats(),
}));
cache.close();
process.exit(0);
