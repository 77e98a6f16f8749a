/**
 * The delivery engine behind every sink: a bounded memory queue of serialized events, the overflow policy (spill to
 * disk, then drop with a counter), one batch in flight at a time, retries with exponential backoff and full jitter,
 * and a close() that delivers what it can within a deadline. Nothing here runs on the getter's path but a push.
 * @module
 */
import { type Logger, consoleLogger } from '../events/logger.ts';
import { ByteLines, type MemoryBatch, type MemoryLines, StringLines } from './lines.ts';
import { Spill, type SpilledBatch } from './spill.ts';
import { onTermination } from './signals.ts';

/**
 * The outcome of one delivery attempt. `requeue`: lines of an acknowledged batch that the destination reported as
 * not ingested (Eppo's `failed_events`); they go back to the queue for the next delivery round.
 */
export type SendResult =
  | { ok: true; requeue?: readonly string[] }
  | { ok: false; retry: boolean; message: string; retryAfterMs?: number | null };

/** Where batches go (a file, an HTTP collector). */
export interface Transport {
  /** Deliver the lines as one batch; resolve with the outcome (a thrown error counts as retriable). */
  send(lines: readonly string[], signal: AbortSignal): Promise<SendResult>;
  /**
   * Optional: deliver a batch given as UTF-8 with a newline after each of its `count` lines. A transport that has it
   * gets its batches this way, and the queue keeps the events waiting in memory encoded instead of as strings
   * (src/sinks/lines.ts: fewer garbage collections); a batch read back from disk still comes through `send`.
   */
  sendBytes?(data: Uint8Array, count: number, signal: AbortSignal): Promise<SendResult>;
  /** Release resources once the last batch is done. */
  close?(): Promise<void>;
}

/** Options shared by every sink. */
export interface QueueOptions {
  /** Events per batch. */
  batchSize?: number;
  /** Largest batch body in bytes (Segment accepts 500 KB). */
  maxBatchBytes?: number;
  /** A partial batch is sent after this long. Default 1000 ms. */
  flushIntervalMs?: number;
  /** Events held in memory; beyond it events spill to disk. Default 10 000. */
  maxQueue?: number;
  /**
   * Where overflow goes: a directory of your own (kept across restarts: segments left by a previous process are
   * delivered by the next sink using it; one sink per directory), undefined for a private temporary directory, or
   * false to drop on overflow right away.
   */
  spillDir?: string | false;
  /** Bytes on disk before events are dropped. Default 256 MiB. */
  maxSpillBytes?: number;
  /** First retry delay; doubles per attempt up to {@link retryMaxMs}, each delay drawn in [½, 1] of it. Default 200 ms. */
  retryBaseMs?: number;
  /** Default 30 000 ms. */
  retryMaxMs?: number;
  /**
   * Failed retries of one batch before it goes back to the end of the queue, to be tried again with the next
   * delivery round (`flushIntervalMs` later). Default: no limit (a batch is retried until delivered or closed).
   */
  maxRetries?: number;
  /** How long close() (and SIGTERM) may spend delivering. Default 5000 ms. */
  closeTimeoutMs?: number;
  /** Close (flushing) on SIGTERM and SIGINT, then let the signal end the process as it would have. Default true. */
  flushOnSignal?: boolean;
  /** Diagnostics. Default: warnings and errors to the console. */
  logger?: Logger;
}

/** Why an event was dropped. */
export type DropReason = 'overflow' | 'rejected' | 'tooLarge' | 'invalid' | 'closed' | 'deadline';

/** Counters of a sink. `accepted = delivered + dropped + queued + persisted`, always. */
export interface SinkStats {
  /** Events handed to the sink. */
  accepted: number;
  /** Events in batches the destination acknowledged. */
  delivered: number;
  /** Events given up, by reason; never silently. */
  dropped: number;
  /** Dropped events, by reason. */
  droppedBy: Record<DropReason, number>;
  /** Events waiting: memory, disk and in flight. */
  queued: number;
  /** Of those, in memory. */
  memoryQueued: number;
  /** Of those, on disk (or waiting to be written there). */
  spilled: number;
  /** Events left on disk at close for the next process (a spillDir of your own). */
  persisted: number;
  /** Failed attempts that were retried. */
  retries: number;
  /** Batches acknowledged. */
  batches: number;
  /** Message of the last delivery failure, or null. */
  lastError: string | null;
}

const ZERO_DROPS = (): Record<DropReason, number> => ({ overflow: 0, rejected: 0, tooLarge: 0, invalid: 0, closed: 0, deadline: 0 });

interface Batch {
  mem: MemoryBatch;
  spilled: SpilledBatch | null;
}

/** A bounded, retrying, batching queue of serialized events in front of a {@link Transport}. */
export class DeliveryQueue {
  readonly #transport: Transport;
  readonly #logger: Logger;
  readonly #batchSize: number;
  readonly #maxBatchBytes: number;
  readonly #maxEventBytes: number;
  readonly #maxQueue: number;
  readonly #flushMs: number;
  readonly #retryBase: number;
  readonly #retryMax: number;
  readonly #maxRetries: number;
  readonly #closeMs: number;
  readonly #spill: Spill;
  readonly #mem: MemoryLines;
  #inFlight: Batch | null = null;
  #running = false;
  /** Set when the last batch went back to the queue after maxRetries: the run pauses until the next round. */
  #deferred = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #idle: (() => void)[] = [];
  #closed = false;
  #closing: Promise<SinkStats> | null = null;
  readonly #abort = new AbortController();
  /** Set when close() left the rest on disk for the next process. */
  #handedOver = false;
  readonly #stats = { accepted: 0, delivered: 0, dropped: 0, retries: 0, batches: 0, lastError: null as string | null };
  readonly #droppedBy = ZERO_DROPS();
  #unsubscribe: (() => void) | null = null;
  #lastDropWarnAt = 0;

  constructor(transport: Transport, options: QueueOptions, defaults: { batchSize: number; maxBatchBytes: number; maxEventBytes: number }) {
    this.#transport = transport;
    this.#logger = options.logger ?? consoleLogger;
    this.#batchSize = positive('batchSize', options.batchSize ?? defaults.batchSize);
    this.#maxBatchBytes = positive('maxBatchBytes', options.maxBatchBytes ?? defaults.maxBatchBytes);
    this.#maxEventBytes = defaults.maxEventBytes;
    this.#maxQueue = positive('maxQueue', options.maxQueue ?? 10_000);
    this.#flushMs = positive('flushIntervalMs', options.flushIntervalMs ?? 1000);
    this.#retryBase = positive('retryBaseMs', options.retryBaseMs ?? 200);
    this.#retryMax = positive('retryMaxMs', options.retryMaxMs ?? 30_000);
    const maxRetries = options.maxRetries ?? Infinity;
    if (!(maxRetries === Infinity || (Number.isInteger(maxRetries) && maxRetries >= 0))) throw new RangeError(`Sink option maxRetries must be a non-negative integer, got ${String(maxRetries)}`);
    this.#maxRetries = maxRetries;
    this.#closeMs = positive('closeTimeoutMs', options.closeTimeoutMs ?? 5000);
    this.#mem = transport.sendBytes === undefined ? new StringLines() : new ByteLines(this.#maxBatchBytes);
    this.#spill = new Spill(options.spillDir === undefined ? null : options.spillDir, options.maxSpillBytes ?? 256 * 2 ** 20, this.#batchSize, this.#maxBatchBytes);
    if (options.flushOnSignal !== false) this.#unsubscribe = onTermination(() => this.close());
    if (this.#spill.count > 0) this.#kick();
  }

  /** Count an event that could not be serialized (a BigInt or a cycle in its attributes). */
  invalid(): void {
    this.#stats.accepted++;
    this.#drop('invalid', 1);
  }

  /** Queue one serialized event (no newline inside). Never throws, never waits. */
  push(line: string): void {
    this.#stats.accepted++;
    if (this.#closed) return this.#drop('closed', 1);
    if (line.length > this.#maxEventBytes) return this.#drop('tooLarge', 1);
    if (this.#spill.active || this.#mem.count >= this.#maxQueue) {
      if (!this.#spill.push(line)) this.#drop('overflow', 1);
      return;
    }
    this.#mem.push(line);
    if (this.#mem.count >= this.#batchSize) this.#kick();
    else if (this.#timer === null && !this.#running) this.#arm();
  }

  /** Resolves once every event queued before the call is delivered or dropped. */
  flush(): Promise<void> {
    if (this.#pending() === 0) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.#idle.push(resolve));
    this.#kick();
    return done;
  }

  /**
   * Stop accepting events and deliver the rest within `closeTimeoutMs`; then whatever is left is written to a
   * spillDir of your own (for the next process) or counted as dropped ('deadline'). Idempotent.
   */
  close(): Promise<SinkStats> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /** A copy of the counters. */
  stats(): SinkStats {
    const memoryQueued = this.#mem.count;
    const inFlight = this.#inFlight?.mem.count ?? 0;
    return {
      ...this.#stats,
      droppedBy: { ...this.#droppedBy },
      queued: memoryQueued + (this.#handedOver ? 0 : this.#spill.count) + inFlight,
      memoryQueued,
      spilled: this.#handedOver ? 0 : this.#spill.count,
      persisted: this.#handedOver ? this.#spill.count : 0,
    };
  }

  async #close(): Promise<SinkStats> {
    this.#closed = true;
    this.#unsubscribe?.();
    const deadline = new Promise<'timeout'>((resolve) => {
      const t = setTimeout(() => resolve('timeout'), this.#closeMs);
      (t as { unref?: () => void }).unref?.();
    });
    const result = await Promise.race([this.flush().then(() => 'done' as const), deadline]);
    if (result === 'timeout') {
      this.#abort.abort();
      // The in-flight batch may still be acknowledged; wait for its attempt to settle (the abort ends it).
      while (this.#running) await new Promise<void>((resolve) => this.#idle.push(resolve));
      const rest = this.#mem.drain();
      if (this.#spill.persistent && this.#spill.persist(rest)) this.#handedOver = true;
      else {
        this.#drop('deadline', rest.length);
        for (let b = this.#spill.take(); b !== null; b = this.#spill.take()) {
          this.#drop('deadline', b.lines.length);
          this.#spill.done(b);
        }
      }
    }
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#spill.close();
    try {
      await this.#transport.close?.();
    } catch (err) {
      this.#report(`Sink transport did not close cleanly: ${message(err)}`);
    }
    return this.stats();
  }

  #pending(): number {
    return this.#mem.count + this.#spill.count + (this.#inFlight?.mem.count ?? 0);
  }

  #arm(): void {
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#kick();
    }, this.#flushMs);
    (this.#timer as { unref?: () => void }).unref?.();
  }

  #kick(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#run();
  }

  async #run(): Promise<void> {
    try {
      for (let batch = this.#next(); batch !== null; batch = this.#next()) {
        this.#inFlight = batch;
        await this.#deliver(batch);
        this.#inFlight = null;
        if (batch.spilled !== null) this.#spill.done(batch.spilled);
        if (this.#deferred) break;
        // Partial batches wait for the timer unless someone flushes or closes.
        if (this.#idle.length === 0 && !this.#closed && this.#mem.count < this.#batchSize && !this.#spill.active) break;
      }
    } finally {
      this.#running = false;
      const deferred = this.#deferred;
      this.#deferred = false;
      if (this.#pending() === 0 || this.#abort.signal.aborted) for (const resolve of this.#idle.splice(0)) resolve();
      else if (deferred) {
        if (this.#timer === null) this.#arm();
      } else if (this.#idle.length > 0 || this.#closed) this.#kick();
      else if (this.#pending() > 0 && this.#timer === null) this.#arm();
    }
  }

  #next(): Batch | null {
    if (this.#abort.signal.aborted) return null;
    if (this.#mem.count > 0) return { mem: this.#mem.take(this.#batchSize, this.#maxBatchBytes), spilled: null };
    const spilled = this.#spill.take();
    return spilled === null ? null : { mem: { count: spilled.lines.length, lines: spilled.lines, data: null }, spilled };
  }

  /** Send until acknowledged, rejected, or aborted by close()'s deadline. */
  async #deliver(batch: Batch): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      let result: SendResult;
      try {
        const { mem } = batch;
        result = await (mem.data !== null ? this.#transport.sendBytes!(mem.data, mem.count, this.#abort.signal) : this.#transport.send(mem.lines, this.#abort.signal));
      } catch (err) {
        result = { ok: false, retry: true, message: message(err) };
      }
      if (result.ok) {
        const again = result.requeue?.length ?? 0;
        this.#stats.delivered += batch.mem.count - again;
        this.#stats.batches++;
        if (again > 0) {
          // Tried again with the next delivery round, as after maxRetries.
          this.#mem.append({ count: again, lines: [...result.requeue!], data: null });
          this.#deferred = !this.#closed;
        }
        return;
      }
      this.#stats.lastError = result.message;
      if (!result.retry) {
        this.#report(`Sink rejected a batch of ${batch.mem.count} events: ${result.message}`);
        return this.#drop('rejected', batch.mem.count);
      }
      if (this.#abort.signal.aborted) {
        // close() ran out of time: the batch goes back to the front so it is persisted or counted.
        this.#mem.unshift(batch.mem);
        return;
      }
      if (attempt >= this.#maxRetries && !this.#closed) {
        // Given up for this round (closing retries until the deadline instead): back to the end of the queue, tried again with the next delivery round.
        this.#logger.debug?.(`Sink delivery failed after ${attempt} retries (${result.message}); batch re-queued`);
        this.#mem.append(batch.mem);
        this.#deferred = true;
        return;
      }
      this.#stats.retries++;
      if (attempt === 0) this.#logger.debug?.(`Sink delivery failed (${result.message}); retrying`);
      const backoff = Math.min(this.#retryMax, this.#retryBase * 2 ** Math.min(attempt, 30)) * (0.5 + Math.random() / 2);
      await this.#sleep(Math.max(backoff, Math.min(result.retryAfterMs ?? 0, this.#retryMax)));
    }
  }

  /** A backoff wait that close()'s deadline cuts short. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        this.#abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.#abort.signal.addEventListener('abort', done);
    });
  }

  #drop(reason: DropReason, n: number): void {
    if (n === 0) return;
    this.#droppedBy[reason] += n;
    this.#stats.dropped += n;
    if (Date.now() - this.#lastDropWarnAt >= 60_000) {
      this.#lastDropWarnAt = Date.now();
      this.#report(`Sink dropped ${n} event(s) (${reason}); ${this.#stats.dropped} dropped so far (see stats())`);
    }
  }

  #report(text: string): void {
    try {
      this.#logger.warn(text);
    } catch {
      // A throwing diagnostics logger must not break delivery.
    }
  }
}

function positive(name: string, value: number): number {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) throw new RangeError(`Sink option ${name} must be a positive number, got ${String(value)}`);
  return value;
}

export function message(err: unknown): string {
  try {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  } catch {
    return 'unprintable error';
  }
}
