// The memory half of the sinks' delivery queue: lines kept encoded as bytes (transports with sendBytes, e.g. the file
// sink) must behave exactly as lines kept as strings — same order, same batches by count, every line once — and a
// queue over a byte transport that fails, is given up on and runs out of time at close loses nothing.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteLines, type MemoryBatch, StringLines, batchLines } from '../src/sinks/lines.ts';
import { DeliveryQueue, type SendResult, type Transport } from '../src/sinks/queue.ts';
import { mulberry32 } from './gen-config.ts';

const t = suite('sink-lines');
const decoder = new TextDecoder();

/** Lines of every kind a serializer can produce: ASCII, multi-byte, astral, empty, long (over a block). */
function line(rand: () => number, i: number): string {
  const kind = Math.floor(rand() * 6);
  if (kind === 0) return `{"i":${i},"s":"plain"}`;
  if (kind === 1) return `{"i":${i},"s":"é中文${'ü'.repeat(Math.floor(rand() * 40))}"}`;
  if (kind === 2) return `{"i":${i},"s":"😀\\u2028"}`;
  if (kind === 3) return '';
  if (kind === 4) return `{"i":${i},"s":"${'x'.repeat(5000 + Math.floor(rand() * 5000))}"}`;
  return `{"i":${i},"s":"${'y'.repeat(Math.floor(rand() * 300))}"}`;
}

t('ByteLines hands out the same lines in the same order as StringLines, through take, unshift, append and drain', () => {
  for (let seed = 1; seed <= 40; seed++) {
    const rand = mulberry32(seed);
    const bytes = new ByteLines(4096);
    const strings = new StringLines();
    const outB: string[] = [];
    const outS: string[] = [];
    let next = 0;
    for (let step = 0; step < 300; step++) {
      const op = rand();
      if (op < 0.5) {
        const n = 1 + Math.floor(rand() * 20);
        for (let k = 0; k < n; k++) {
          const l = line(rand, next++);
          bytes.push(l);
          strings.push(l);
        }
      } else if (bytes.count > 0) {
        const max = 1 + Math.floor(rand() * 30);
        const b = bytes.take(max, Infinity);
        // Byte batches may end earlier (a batch never spans two blocks): the model takes as many.
        const s = strings.take(b.count, Infinity);
        assert.ok(b.count >= 1 && b.count <= max, `seed ${seed}: ${b.count} lines for max ${max}`);
        if (b.data !== null) {
          // One buffer of exactly the lines, each followed by a newline.
          assert.equal(b.data.filter((x) => x === 10).length, b.count);
          assert.equal(b.data[b.data.length - 1], 10);
        }
        const bl = batchLines(b);
        assert.equal(bl.length, b.count);
        const sl = batchLines(s);
        assert.deepEqual(bl, sl, `seed ${seed} step ${step}`);
        if (op < 0.6) {
          // Given back: the byte batch to the front, the string batch too (as a deadline abort does).
          bytes.unshift(b);
          strings.unshift(s);
        } else if (op < 0.7) {
          // Given up for this round: to the end (as after maxRetries).
          bytes.append(b);
          strings.append(s);
        } else {
          outB.push(...bl);
          outS.push(...sl);
        }
      }
      assert.equal(bytes.count, strings.count, `seed ${seed} step ${step}`);
    }
    outB.push(...bytes.drain());
    outS.push(...strings.drain());
    assert.equal(bytes.count, 0);
    assert.deepEqual(outB, outS, `seed ${seed}`);
  }
});

t('a byte batch respects maxBytes and the line count (at least one line, even an oversized one)', () => {
  const lines = new ByteLines(1 << 20);
  for (let i = 0; i < 100; i++) lines.push(`line-${String(i).padStart(4, '0')}`); // 10 bytes + newline
  const a = lines.take(1000, 55);
  assert.equal(a.count, 5);
  assert.equal(decoder.decode(a.data!), 'line-0000\nline-0001\nline-0002\nline-0003\nline-0004\n');
  assert.equal(lines.take(3, Infinity).count, 3);
  assert.equal(lines.take(1000, 1).count, 1);
  assert.equal(lines.count, 91);
  const big = 'z'.repeat(3 << 20);
  lines.push(big);
  const rest = lines.drain();
  assert.equal(rest.length, 92);
  assert.equal(rest[91], big);
});

t('a queue over a byte transport: failures retried, a batch given up re-queued, the rest persisted at the deadline — nothing lost', async () => {
  const received: string[] = [];
  let calls = 0;
  let stall = false;
  const transport: Transport = {
    send: (lines) => transport.sendBytes!(new TextEncoder().encode(lines.map((l) => `${l}\n`).join('')), lines.length, new AbortController().signal),
    async sendBytes(data: Uint8Array, count: number, signal: AbortSignal): Promise<SendResult> {
      calls++;
      if (stall) {
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve()));
        return { ok: false, retry: true, message: 'aborted' };
      }
      if (calls % 3 === 0) return { ok: false, retry: true, message: 'every third call fails' };
      const text = decoder.decode(data);
      const lines = text.split('\n');
      assert.equal(lines.pop(), '');
      assert.equal(lines.length, count);
      received.push(...lines);
      return { ok: true };
    },
  };
  const dir = mkdtempSync(join(tmpdir(), 'saltshard-lines-'));
  const queue = new DeliveryQueue(transport, {
    flushOnSignal: false, maxRetries: 1, retryBaseMs: 1, retryMaxMs: 2, flushIntervalMs: 5, spillDir: dir, closeTimeoutMs: 300, logger: { error() {}, warn() {}, info() {}, debug() {} },
  }, { batchSize: 7, maxBatchBytes: 200, maxEventBytes: Infinity });
  const sent: string[] = [];
  for (let i = 0; i < 500; i++) {
    const l = `{"n":${i},"s":"${'é'.repeat(i % 13)}"}`;
    sent.push(l);
    queue.push(l);
    if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await queue.flush();
  assert.deepEqual([...received].sort(), [...sent].sort(), 'every line delivered once');
  // Now the destination stalls: what is queued at close is left in the spill directory for the next process.
  stall = true;
  const late: string[] = [];
  for (let i = 0; i < 40; i++) {
    late.push(`{"late":${i}}`);
    queue.push(late[i]);
  }
  // The queue's deadline timer does not hold the process open (a stalled destination must not); this test does.
  const keepAlive = setInterval(() => {}, 50);
  const stats = await queue.close().finally(() => clearInterval(keepAlive));
  assert.equal(stats.accepted, 540);
  assert.equal(stats.delivered, 500);
  assert.equal(stats.dropped, 0);
  assert.equal(stats.persisted, 40);
  const persisted = readdirSync(dir).filter((f) => f.endsWith('.ndjson')).flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l !== ''));
  assert.deepEqual(persisted.sort(), late.sort());
});

t('batchLines of a string batch is the batch itself', () => {
  const b: MemoryBatch = { count: 2, lines: ['a', 'b'], data: null };
  assert.equal(batchLines(b), b.lines);
});

t.run();
