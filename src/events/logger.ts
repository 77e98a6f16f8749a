/**
 * Assignment events (eppo-spec §4): the callback types, the dedupe cache, the pre-logger queue, and the
 * sandbox around user callbacks. A logger that throws or rejects never reaches the getter or the process.
 * @module
 */
import type { FlagEvaluationDetails } from '../eval/details.ts';

/** The exposure event a logger receives; `extraLogging` entries of the split are spread at the top level first. */
export interface AssignmentEvent {
  [extra: string]: unknown;
  /** Allocation key. */
  allocation: string | null;
  /** `${flagKey}-${allocationKey}`. */
  experiment: string | null;
  /** The flag key as requested (plain even for obfuscated configs). */
  featureFlag: string;
  /** `SERVER` or `CLIENT`. */
  format: string;
  /** The variation key. */
  variation: string | null;
  /** Subject key. */
  subject: string;
  /** ISO time of the evaluation. */
  timestamp: string;
  /** Attributes as passed (without the implicit `id`). */
  subjectAttributes: Readonly<Record<string, unknown>>;
  metaData: Readonly<Record<string, unknown>>;
  evaluationDetails: FlagEvaluationDetails;
  entityId: number | null;
}

/** Receives exposure events. May return a promise; its rejection is caught and reported. */
export interface AssignmentLogger {
  logAssignment(event: AssignmentEvent): void | Promise<unknown>;
}

/** The SDK's own diagnostics; the OpenFeature logger shape (info and debug optional). */
export interface Logger {
  error(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  info?(...args: unknown[]): void;
  debug?(...args: unknown[]): void;
}

/** Warnings and errors to the console, prefixed; info and debug are dropped. */
export const consoleLogger: Logger = {
  error: (...args) => console.error('[saltshard]', ...args),
  warn: (...args) => console.warn('[saltshard]', ...args),
  info: () => {},
  debug: () => {},
};

/** Events kept while no logger is set (Eppo: 100); later ones are dropped with one warning. */
export const MAX_QUEUED_EVENTS = 100;

/**
 * A bounded least-recently-used map from (subject, flag) to the last logged (allocation, variation).
 * Capacity 0 disables dedupe (every evaluation logs). O(1) per operation: a Map of index slots threaded on
 * a doubly linked list. (A plain Map with delete-oldest degrades badly in V8 once full: iterating from the
 * start skips every deleted slot; measured 11–18 µs per getter at 50 000 entries, 2026-11-24.)
 */
export class DedupeCache {
  readonly #max: number;
  readonly #index = new Map<string, number>();
  readonly #keys: string[] = [];
  readonly #values: string[] = [];
  readonly #prev: number[] = [];
  readonly #next: number[] = [];
  #head = -1; // most recent
  #tail = -1; // least recent

  constructor(max: number) {
    this.#max = Math.max(0, Math.floor(max));
  }

  /** True when this exact assignment was the last one logged for the pair; refreshes its recency. */
  has(key: string, value: string): boolean {
    const i = this.#index.get(key);
    if (i === undefined) return false;
    this.#touch(i);
    return this.#values[i] === value;
  }

  set(key: string, value: string): void {
    if (this.#max === 0) return;
    let i = this.#index.get(key);
    if (i !== undefined) {
      this.#values[i] = value;
      this.#touch(i);
      return;
    }
    if (this.#index.size < this.#max) {
      i = this.#keys.length;
      this.#keys.push(key);
      this.#values.push(value);
      this.#prev.push(-1);
      this.#next.push(-1);
    } else {
      // Reuse the least recently used slot.
      i = this.#tail;
      this.#index.delete(this.#keys[i]);
      this.#unlink(i);
      this.#keys[i] = key;
      this.#values[i] = value;
    }
    this.#index.set(key, i);
    this.#pushFront(i);
  }

  /** Forget the pair if it still holds this value (used when an async logger rejects). */
  forget(key: string, value: string): void {
    const i = this.#index.get(key);
    if (i === undefined || this.#values[i] !== value) return;
    // Mark the slot as holding no assignment; it ages out like any other.
    this.#values[i] = '';
  }

  get size(): number {
    return this.#index.size;
  }

  #touch(i: number): void {
    if (i === this.#head) return;
    this.#unlink(i);
    this.#pushFront(i);
  }

  #unlink(i: number): void {
    const p = this.#prev[i];
    const n = this.#next[i];
    if (p === -1) this.#head = n;
    else this.#next[p] = n;
    if (n === -1) this.#tail = p;
    else this.#prev[n] = p;
    this.#prev[i] = -1;
    this.#next[i] = -1;
  }

  #pushFront(i: number): void {
    this.#next[i] = this.#head;
    this.#prev[i] = -1;
    if (this.#head !== -1) this.#prev[this.#head] = i;
    this.#head = i;
    if (this.#tail === -1) this.#tail = i;
  }
}

/** Options of {@link EventSink}. */
export interface EventSinkOptions {
  logger: Logger;
  assignmentLogger?: AssignmentLogger | null;
  /** Dedupe capacity; 0 or false turns dedupe off. Default 50 000, as Eppo's node SDK. */
  assignmentCacheSize?: number | false;
}

/** Delivers events once per new (subject, flag) → (allocation, variation), sandboxing the user's logger. */
export class EventSink {
  readonly #logger: Logger;
  #assignmentLogger: AssignmentLogger | null;
  readonly #cache: DedupeCache;
  readonly #queue: AssignmentEvent[] = [];
  #warnedQueueFull = false;

  constructor(options: EventSinkOptions) {
    this.#logger = options.logger;
    this.#assignmentLogger = options.assignmentLogger ?? null;
    const size = options.assignmentCacheSize;
    this.#cache = new DedupeCache(size === false ? 0 : size ?? 50_000);
  }

  /**
   * Deliver (or queue) an event built by `build`, unless it repeats the pair's last logged assignment.
   * @returns nothing; failures go to the SDK logger.
   */
  deliver(subjectKey: string, flagKey: string, allocationKey: string, variationKey: string, build: () => AssignmentEvent): void {
    const key = pairKey(subjectKey, flagKey);
    const value = `${allocationKey};${variationKey}`;
    if (this.#cache.has(key, value)) return;
    let event: AssignmentEvent;
    try {
      event = build();
    } catch (err) {
      this.#logger.error('Cannot build assignment event', errorText(err));
      return;
    }
    const target = this.#assignmentLogger;
    if (target === null) {
      if (this.#queue.length >= MAX_QUEUED_EVENTS) {
        if (!this.#warnedQueueFull) this.#logger.warn(`No assignment logger set; dropping events beyond ${MAX_QUEUED_EVENTS}`);
        this.#warnedQueueFull = true;
        return;
      }
      this.#queue.push(event);
      this.#cache.set(key, value);
      return;
    }
    // Only a successful call is remembered, so a failed one is retried on the next evaluation (eppo-spec §4.4).
    if (this.#call(target, event, () => this.#cache.forget(key, value))) this.#cache.set(key, value);
  }

  /** Set or replace the logger; queued events are flushed to it in order. */
  setAssignmentLogger(assignmentLogger: AssignmentLogger | null): void {
    this.#assignmentLogger = assignmentLogger;
    if (assignmentLogger === null) return;
    const queued = this.#queue.splice(0);
    this.#warnedQueueFull = false;
    for (const event of queued) this.#call(assignmentLogger, event, () => {});
  }

  /** Number of events waiting for a logger. */
  get queued(): number {
    return this.#queue.length;
  }

  #call(target: AssignmentLogger, event: AssignmentEvent, onReject: () => void): boolean {
    try {
      const result = target.logAssignment(event);
      if (result !== null && typeof result === 'object' && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<unknown>).then(undefined, (err: unknown) => {
          onReject();
          this.#logger.error('Assignment logger rejected', errorText(err));
        });
      }
      return true;
    } catch (err) {
      this.#logger.error('Assignment logger threw', errorText(err));
      return false;
    }
  }
}

function pairKey(subjectKey: string, flagKey: string): string {
  return `${flagKey.length}:${flagKey}${subjectKey}`;
}

function errorText(err: unknown): string {
  try {
    return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  } catch {
    return 'unprintable error';
  }
}
