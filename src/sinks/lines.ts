/**
 * The memory half of a sink's queue: serialized events waiting for delivery, oldest first, kept either as strings
 * or — for a transport that takes bytes — encoded into a few large byte blocks as they arrive.
 *
 * Why bytes: a line waiting in a queue of strings outlives the garbage collector's young generation and is copied
 * by each collection until it is promoted; with a producer logging thousands of events between two writes that was
 * most of a file sink's garbage collection. Encoded at once, the string dies young (free to collect) and the bytes
 * sit outside the JavaScript heap.
 * @module
 */

/** A batch taken from the front: strings, or UTF-8 bytes with a newline after each of its `count` lines. */
export type MemoryBatch = { count: number; lines: string[]; data: null } | { count: number; lines: null; data: Uint8Array };

/** Lines in order; `take` hands out at least one line when any is waiting. */
export interface MemoryLines {
  readonly count: number;
  push(line: string): void;
  /** Up to `max` lines from the front whose bytes (or UTF-16 units, for strings) with newlines fit `maxBytes`. */
  take(max: number, maxBytes: number): MemoryBatch;
  /** Put a batch (taken earlier, or read back from disk) back at the front. */
  unshift(batch: MemoryBatch): void;
  /** Put lines back at the end (a batch given up for this round, or lines a destination did not ingest). */
  append(batch: MemoryBatch): void;
  /** Everything, as strings, leaving the queue empty. */
  drain(): string[];
}

/** The lines of a batch as strings. */
export function batchLines(batch: MemoryBatch): string[] {
  if (batch.lines !== null) return batch.lines;
  const text = decoder.decode(batch.data);
  const lines = text.split('\n');
  lines.pop(); // after the last newline
  return lines;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Lines kept as strings (transports that need them: HTTP bodies built per batch, requeues by event id). */
export class StringLines implements MemoryLines {
  #lines: string[] = [];
  #head = 0;

  get count(): number {
    return this.#lines.length - this.#head;
  }

  push(line: string): void {
    this.#lines.push(line);
  }

  take(max: number, maxBytes: number): MemoryBatch {
    const avail = this.count;
    let n = 0;
    let bytes = 0;
    while (n < avail && n < max && (n === 0 || bytes + this.#lines[this.#head + n].length + 1 <= maxBytes)) {
      bytes += this.#lines[this.#head + n].length + 1;
      n++;
    }
    const lines = this.#lines.slice(this.#head, this.#head + n);
    this.#head += n;
    if (this.#head > 4096 && this.#head * 2 > this.#lines.length) {
      this.#lines = this.#lines.slice(this.#head);
      this.#head = 0;
    }
    return { count: n, lines, data: null };
  }

  unshift(batch: MemoryBatch): void {
    this.#lines.splice(this.#head, 0, ...batchLines(batch));
  }

  append(batch: MemoryBatch): void {
    for (const line of batchLines(batch)) this.#lines.push(line);
  }

  drain(): string[] {
    const rest = this.#lines.slice(this.#head);
    this.#lines = [];
    this.#head = 0;
    return rest;
  }
}

/** One block of encoded lines: `ends[i]` is the offset just past line i's newline. */
interface Block {
  buf: Uint8Array;
  used: number;
  ends: number[];
  /** Lines of `ends` already taken, and the offset where the first untaken one starts. */
  head: number;
  start: number;
}

/**
 * Lines encoded as UTF-8 into blocks of `blockBytes` (a line longer than that gets a block of its own). A batch never
 * spans two blocks, so it is one subarray of a block, handed to the transport without a copy; a block is dropped once
 * every line in it was taken (the transport may still be writing from it: it is never reused).
 */
export class ByteLines implements MemoryLines {
  readonly #blockBytes: number;
  /** Batches put back at the front, served before the blocks. */
  #front: MemoryBatch[] = [];
  #blocks: Block[] = [];
  #count = 0;

  constructor(blockBytes: number) {
    this.#blockBytes = Math.max(4096, Math.min(blockBytes, 64 * 2 ** 20));
  }

  get count(): number {
    return this.#count;
  }

  push(line: string): void {
    // At most 3 bytes per UTF-16 unit, plus the newline.
    const need = line.length * 3 + 1;
    let block = this.#blocks[this.#blocks.length - 1];
    if (block === undefined || block.buf.length - block.used < need) {
      block = { buf: new Uint8Array(Math.max(this.#blockBytes, need)), used: 0, ends: [], head: 0, start: 0 };
      this.#blocks.push(block);
    }
    const at = block.used + encoder.encodeInto(line, block.used === 0 ? block.buf : block.buf.subarray(block.used)).written;
    block.buf[at] = 10;
    block.used = at + 1;
    block.ends.push(block.used);
    this.#count++;
  }

  take(max: number, maxBytes: number): MemoryBatch {
    const front = this.#front[0];
    if (front !== undefined) {
      const head = headOf(front, max, maxBytes);
      if (head.count === front.count) this.#front.shift();
      else this.#front[0] = head.data !== null ? tailOf(front, head) : { count: front.count - head.count, lines: front.lines!.slice(head.count), data: null };
      this.#count -= head.count;
      return head;
    }
    while (this.#blocks.length > 1 && this.#blocks[0].head === this.#blocks[0].ends.length) this.#blocks.shift();
    const block = this.#blocks[0];
    if (block === undefined || block.head === block.ends.length) return { count: 0, lines: [], data: null };
    const { ends, start } = block;
    let n = block.head;
    const last = Math.min(ends.length, block.head + max);
    while (n < last && (n === block.head || ends[n] - start <= maxBytes)) n++;
    const count = n - block.head;
    const data = block.buf.subarray(start, ends[n - 1]);
    block.head = n;
    block.start = ends[n - 1];
    this.#count -= count;
    return { count, lines: null, data };
  }

  unshift(batch: MemoryBatch): void {
    this.#front.unshift(batch);
    this.#count += batch.count;
  }

  append(batch: MemoryBatch): void {
    for (const line of batchLines(batch)) this.push(line);
  }

  drain(): string[] {
    const rest: string[] = [];
    while (this.#count > 0) for (const line of batchLines(this.take(Infinity, Infinity))) rest.push(line);
    this.#front = [];
    this.#blocks = [];
    return rest;
  }
}

/** The first lines of a batch within `max` lines and `maxBytes` (at least one). */
function headOf(batch: MemoryBatch, max: number, maxBytes: number): MemoryBatch {
  if (batch.data === null) {
    let n = 0;
    let bytes = 0;
    while (n < batch.count && n < max && (n === 0 || bytes + batch.lines[n].length + 1 <= maxBytes)) bytes += batch.lines[n++].length + 1;
    return n === batch.count ? batch : { count: n, lines: batch.lines.slice(0, n), data: null };
  }
  const { data } = batch;
  let n = 0;
  let end = 0;
  while (n < batch.count && n < max) {
    const next = data.indexOf(10, end) + 1;
    if (n > 0 && next > maxBytes) break;
    end = next;
    n++;
  }
  return n === batch.count ? batch : { count: n, lines: null, data: data.subarray(0, end) };
}

/** What is left of a byte batch after its head. */
function tailOf(batch: MemoryBatch, head: MemoryBatch): MemoryBatch {
  return { count: batch.count - head.count, lines: null, data: batch.data!.subarray(head.data!.length) };
}
