/**
 * Assignment events (eppo-spec §4): the callback types, the dedupe cache, the pre-logger queue, and the
 * delivery of events through the sandbox (./sandbox.ts): a logger that throws or rejects never reaches the getter or the process.
 * @module
 */
import type { FlagEvaluationDetails } from '../eval/details.ts';
import { callSandboxed, safeLogger } from './sandbox.ts';
import { type AssignmentCache, throughCustomCache } from './assignment-cache.ts';
import { Counters } from '../client/metrics.ts';

/** The exposure event a logger receives; `extraLogging` entries of the split are spread at the top level first. */
export interface AssignmentEvent {
  /** The split's `extraLogging` entries, spread at the top level. */
  [extra: string]: unknown;
  /** Allocation key. */
  allocation: string | null;
  /** `${flagKey}-${allocationKey}`. */
  experiment: string | null;
  /** The flag's own `key` field (plain configs, as Eppo), or the requested key (obfuscated configs, or no `key`). */
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
  /** SDK name, language and version, and whether the config was obfuscated. */
  metaData: Readonly<Record<string, unknown>>;
  /** Why this value was returned (Eppo's evaluation details). */
  evaluationDetails: FlagEvaluationDetails;
  /** The flag's `entityId` from the configuration, or null. */
  entityId: number | null;
}

/** Receives exposure events. May return a promise; its rejection is caught and reported. */
export interface AssignmentLogger {
  /** Called once per exposure to be logged (after dedupe). */
  logAssignment(event: AssignmentEvent): void | Promise<unknown>;
}

/** The SDK's own diagnostics; the OpenFeature logger shape (info and debug optional). */
export interface Logger {
  /** Log an error. */
  error(...args: unknown[]): void;
  /** Log a warning. */
  warn(...args: unknown[]): void;
  /** Log information (optional). */
  info?(...args: unknown[]): void;
  /** Log debug detail (optional). */
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
 * A bounded least-recently-used map from (flag, subject) to the last logged assignment (e.g. allocation and
 * variation). Capacity 0 disables dedupe (every evaluation logs). O(1) per operation and no string building:
 * slots are found through one Map per flag keyed by the subject key as given (its hash is cached by the engine),
 * and threaded on a doubly linked list for recency. (A single Map keyed by a concatenated string, evicting its
 * oldest entry, cost 11–18 µs per getter at 50 000 entries in V8; 2026-11-24.)
 */
export class DedupeCache {
  readonly #max: number;
  readonly #byFlag = new Map<string, Map<string, number>>();
  #size = 0;
  readonly #flags: string[] = [];
  readonly #subjects: string[] = [];
  readonly #values: string[] = [];
  readonly #prev: number[] = [];
  readonly #next: number[] = [];
  #head = -1; // most recent
  #tail = -1; // least recent
  /** The last has() lookup, valid while #version is unchanged (set() and forget() change it). */
  #version = 0;
  #probeVersion = -1;
  #probe: Map<string, number> | undefined = undefined;
  #probeFlag = '';
  #probeSubject = '';
  #probeIndex = -1;

  constructor(max: number) {
    this.#max = Math.max(0, Math.floor(max));
  }

  /** True when `value` is what was last logged for the pair; refreshes the pair's recency. */
  has(flag: string, subject: string, value: string): boolean {
    const bySubject = this.#byFlag.get(flag);
    const i = bySubject?.get(subject);
    // Remember the probe: set() for the same pair right after (the usual miss path) skips both lookups.
    this.#probe = bySubject;
    this.#probeFlag = flag;
    this.#probeSubject = subject;
    this.#probeIndex = i ?? -1;
    this.#probeVersion = this.#version;
    if (i === undefined) return false;
    this.#touch(i);
    return this.#values[i] === value;
  }

  /** Remember `value` as the pair's last logged assignment, evicting the least recently used pair when full. */
  set(flag: string, subject: string, value: string): void {
    if (this.#max === 0) return;
    let bySubject: Map<string, number> | undefined;
    let i: number | undefined;
    if (this.#probeVersion === this.#version && this.#probeFlag === flag && this.#probeSubject === subject) {
      bySubject = this.#probe;
      i = this.#probeIndex === -1 ? undefined : this.#probeIndex;
    } else {
      bySubject = this.#byFlag.get(flag);
      i = bySubject?.get(subject);
    }
    this.#version++;
    if (i !== undefined) {
      this.#values[i] = value;
      this.#touch(i);
      return;
    }
    if (this.#size < this.#max) {
      i = this.#size++;
      this.#flags.push(flag);
      this.#subjects.push(subject);
      this.#values.push(value);
      this.#prev.push(-1);
      this.#next.push(-1);
    } else {
      i = this.#tail;
      const oldFlag = this.#byFlag.get(this.#flags[i])!;
      oldFlag.delete(this.#subjects[i]);
      if (oldFlag.size === 0) this.#byFlag.delete(this.#flags[i]);
      this.#unlink(i);
      this.#flags[i] = flag;
      this.#subjects[i] = subject;
      this.#values[i] = value;
      bySubject = this.#byFlag.get(flag);
    }
    if (bySubject === undefined) this.#byFlag.set(flag, (bySubject = new Map()));
    bySubject.set(subject, i);
    this.#pushFront(i);
  }

  /** Forget the pair's assignment if it is still `value` (used when an async logger rejects). */
  forget(flag: string, subject: string, value: string): void {
    const i = this.#byFlag.get(flag)?.get(subject);
    if (i !== undefined && this.#values[i] === value) this.#values[i] = '';
  }

  get size(): number {
    return this.#size;
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
  }

  #pushFront(i: number): void {
    this.#prev[i] = -1;
    this.#next[i] = this.#head;
    if (this.#head !== -1) this.#prev[this.#head] = i;
    this.#head = i;
    if (this.#tail === -1) this.#tail = i;
  }
}

/** The dedupe capacity for an `assignmentCacheSize` option: default 50 000 (as Eppo's node SDK), `false` → 0 (off). */
export function dedupeCapacity(size: number | false | undefined): number {
  return size === false ? 0 : (size ?? 50_000);
}

/** Options of {@link EventSink}. */
export interface EventSinkOptions {
  logger: Logger;
  assignmentLogger?: AssignmentLogger | null;
  /** Dedupe capacity; 0 or false turns dedupe off. Default 50 000, as Eppo's node SDK. */
  assignmentCacheSize?: number | false;
  /** Where exposures logged, deduped, dropped and failed are counted (client.metrics()). */
  counters?: Counters;
}

/** Delivers events once per new (subject, flag) → (allocation, variation), sandboxing the user's logger. */
export class EventSink {
  readonly #logger: Logger;
  #assignmentLogger: AssignmentLogger | null;
  #cache: DedupeCache;
  /** A user's cache (`useCustomAssignmentCache`), consulted instead of #cache when set. */
  #custom: AssignmentCache | null = null;
  readonly #queue: AssignmentEvent[] = [];
  #warnedQueueFull = false;
  readonly #counters: Counters;

  constructor(options: EventSinkOptions) {
    this.#logger = safeLogger(options.logger);
    this.#counters = options.counters ?? new Counters();
    this.#assignmentLogger = options.assignmentLogger ?? null;
    const size = options.assignmentCacheSize;
    this.#cache = new DedupeCache(dedupeCapacity(size));
  }

  /**
   * Whether an event for this assignment would be delivered or queued: `value` (e.g. "allocation;variation")
   * is not what was last logged for (flag, subject), and the pre-logger queue has room. Callers build the event
   * only then, so repeats cost no allocation.
   */
  wants(flagKey: string, subjectKey: string, value: string): boolean {
    // A user's cache (useCustomAssignmentCache) decides in send(); the built-in one here.
    if (this.#custom === null && this.#cache.has(flagKey, subjectKey, value)) {
      this.#counters.exposuresDeduped++;
      return false;
    }
    // Nobody to receive it: no dedupe bookkeeping either.
    if (this.#assignmentLogger === null && this.#queue.length >= MAX_QUEUED_EVENTS) {
      this.#dropped();
      return false;
    }
    return true;
  }

  /** Deliver (or queue) an event that {@link wants} accepted, and remember the assignment as logged. */
  send(flagKey: string, subjectKey: string, value: string, event: AssignmentEvent): void {
    if (this.#custom !== null) return this.#sendThrough(this.#custom, flagKey, subjectKey, event);
    const target = this.#assignmentLogger;
    if (target === null) {
      this.#queue.push(event);
      this.#cache.set(flagKey, subjectKey, value);
      return;
    }
    // Only a successful call is remembered, so a failed one is retried on the next evaluation (eppo-spec §4.4).
    if (this.#call(target, event, flagKey, subjectKey, value)) this.#cache.set(flagKey, subjectKey, value);
  }

  /** Set or replace the logger; queued events are flushed to it in order. */
  setAssignmentLogger(assignmentLogger: AssignmentLogger | null): void {
    this.#assignmentLogger = assignmentLogger;
    if (assignmentLogger === null) return;
    const queued = this.#queue.splice(0);
    this.#warnedQueueFull = false;
    for (const event of queued) this.#call(assignmentLogger, event, null, '', '');
  }

  /** The assignment logger in force, or null. */
  get assignmentLogger(): AssignmentLogger | null {
    return this.#assignmentLogger;
  }

  /**
   * Choose the dedupe: a capacity for the built-in cache (0: none, Infinity: never evicts), or a user's
   * {@link AssignmentCache} (sync or async). Entries of the previous cache are dropped.
   */
  setCache(cache: number | AssignmentCache): void {
    if (typeof cache === 'number') {
      this.#custom = null;
      this.#cache = new DedupeCache(cache);
    } else {
      this.#custom = cache;
    }
  }

  #sendThrough(cache: AssignmentCache, flagKey: string, subjectKey: string, event: AssignmentEvent): void {
    const entry = { flagKey, subjectKey, allocationKey: event.allocation ?? '', variationKey: event.variation ?? '' };
    throughCustomCache(cache, entry, this.#logger, () => {
      const target = this.#assignmentLogger;
      if (target !== null) return this.#call(target, event, null, '', '');
      if (this.#queue.length >= MAX_QUEUED_EVENTS) {
        this.#dropped();
        return false;
      }
      this.#queue.push(event);
      return true;
    }, () => this.#counters.exposuresDeduped++);
  }

  /** Number of events waiting for a logger. */
  get queued(): number {
    return this.#queue.length;
  }

  /** Call the logger; a rejection later forgets the pair (when `flagKey` is given) so it is logged again. */
  #call(target: AssignmentLogger, event: AssignmentEvent, flagKey: string | null, subjectKey: string, value: string): boolean {
    const counters = this.#counters;
    const ok = callSandboxed(() => target.logAssignment(event), this.#logger, 'Assignment logger', () => {
      // A rejection: counted as failed (its call was counted as logged when it returned).
      counters.exposuresLogged--;
      counters.exposuresFailed++;
      if (flagKey !== null) this.#cache.forget(flagKey, subjectKey, value);
    });
    if (ok) counters.exposuresLogged++;
    else counters.exposuresFailed++;
    return ok;
  }

  #dropped(): void {
    this.#counters.exposuresDropped++;
    if (!this.#warnedQueueFull) {
      this.#logger.warn(`No assignment logger set; dropping events beyond ${MAX_QUEUED_EVENTS}`);
      this.#warnedQueueFull = true;
    }
  }
}

export { callSandboxed } from './sandbox.ts';
