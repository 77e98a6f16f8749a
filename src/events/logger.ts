/**
 * Assignment events (eppo-spec §4): the callback types, the dedupe cache, the pre-logger queue, and the
 * delivery of events through the sandbox (./sandbox.ts): a logger that throws or rejects never reaches the getter or the process.
 * @module
 */
import type { FlagEvaluationDetails } from '../eval/details.ts';
import { THREW, canBeThenable, invokeSandboxed, safeLogger, watchResult } from './sandbox.ts';
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
  /** SDK name, language and version, and whether the config was obfuscated. Shared and frozen in the client's events. */
  metaData: Readonly<Record<string, unknown>>;
  /**
   * Why this value was returned (Eppo's evaluation details). In the client's events it is deep-frozen and its nested
   * parts are shared by every event with the same outcome: copy it before changing it.
   */
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

const LABEL = 'Assignment logger';

/**
 * A bounded least-recently-used map from (flag, subject) to the last logged assignment (e.g. allocation and
 * variation). Capacity 0 disables dedupe (every evaluation logs); Infinity never evicts. O(1) per operation with
 * nothing allocated per miss once warm: an open-addressing table (linear probing, backward-shift deletion) of slot
 * numbers in an Int32Array, found by a hash of (flag id, subject), with the subject string and the value kept by
 * reference only to confirm a hit, and slots threaded on a doubly linked recency list of Int32Arrays.
 * (Per-flag `Map`s keyed by subject cost 5–7 µs per miss at 50,000 entries in the bench's getter row, a third of
 * it in Map delete/insert and most of the rest in garbage collection; 2026-12-05.)
 */
export class DedupeCache {
  readonly #max: number;
  /** Flag key → small id (flags are few: one per logged flag of the config). */
  readonly #flagIds = new Map<string, number>();
  #size = 0;
  /** #slots allocated (pairs it can hold before growing). */
  #room = 0;
  /** Per slot, interleaved so that one cache line serves a slot: [flag id, hash, prev, next] (recency links, -1: none). */
  #slots: Int32Array<ArrayBuffer> = new Int32Array(0);
  #subjects: string[] = [];
  #values: string[] = [];
  /** Open addressing, per cell [slot + 1 (0: empty), hash]; cells are a power of two ≥ 2 × #room. */
  #table: Int32Array<ArrayBuffer> = new Int32Array(0);
  #head = -1; // most recent
  #tail = -1; // least recent
  /** The cell of the last #find: the pair's, or the empty cell ending its run. */
  #cell = -1;
  /** The last has() probe, valid while #version is unchanged (set() and forget() change it). */
  #version = 0;
  #probeVersion = -1;
  #probeFlag = -1;
  #probeFlagKey = '';
  #probeSubject = '';
  #probeHash = 0;
  #probeSlot = -1;

  constructor(max: number) {
    this.#max = Math.max(0, Math.floor(max));
    if (this.#max > 0) this.#grow(Math.min(this.#max, 1024));
  }

  /** True when `value` is what was last logged for the pair; refreshes the pair's recency. */
  has(flag: string, subject: string, value: string): boolean {
    if (this.#max === 0) return false;
    const f = this.#flagId(flag);
    const h = pairHash(f, subject);
    const i = this.#find(f, subject, h);
    // Remember the probe: set() for the same pair right after (the usual miss path) skips the lookup.
    this.#probeVersion = this.#version;
    this.#probeFlag = f;
    this.#probeFlagKey = flag;
    this.#probeSubject = subject;
    this.#probeHash = h;
    this.#probeSlot = i;
    if (i < 0) return false;
    this.#touch(i);
    return this.#values[i] === value;
  }

  /** Remember `value` as the pair's last logged assignment, evicting the least recently used pair when full. */
  set(flag: string, subject: string, value: string): void {
    if (this.#max === 0) return;
    let f: number;
    let h: number;
    let i: number;
    if (this.#probeVersion === this.#version && this.#probeFlagKey === flag && this.#probeSubject === subject) {
      f = this.#probeFlag;
      h = this.#probeHash;
      i = this.#probeSlot;
    } else {
      f = this.#flagId(flag);
      h = pairHash(f, subject);
      i = this.#find(f, subject, h);
    }
    this.#version++;
    if (i >= 0) {
      this.#values[i] = value;
      this.#touch(i);
      return;
    }
    if (this.#size === this.#room && this.#size < this.#max) {
      this.#grow(Math.min(this.#max, this.#size * 2));
      this.#find(f, subject, h); // the empty cell moved with the table
    }
    if (this.#size < this.#max) {
      i = this.#size++;
    } else {
      // Evict the least recently used pair; its removal may shift the cell where the new pair goes.
      i = this.#tail;
      this.#unlink(i);
      this.#remove(i);
      this.#find(f, subject, h);
    }
    this.#slots[4 * i] = f;
    this.#slots[4 * i + 1] = h;
    this.#subjects[i] = subject;
    this.#values[i] = value;
    this.#table[2 * this.#cell] = i + 1;
    this.#table[2 * this.#cell + 1] = h;
    this.#pushFront(i);
  }

  /** Forget the pair's assignment if it is still `value` (used when an async logger rejects). */
  forget(flag: string, subject: string, value: string): void {
    if (this.#max === 0) return;
    const f = this.#flagId(flag);
    const i = this.#find(f, subject, pairHash(f, subject));
    this.#version++;
    if (i >= 0 && this.#values[i] === value) this.#values[i] = '';
  }

  /** The number of pairs held. */
  get size(): number {
    return this.#size;
  }

  #flagId(flag: string): number {
    let f = this.#flagIds.get(flag);
    if (f === undefined) this.#flagIds.set(flag, (f = this.#flagIds.size));
    return f;
  }

  /** The slot of the pair, or -1; leaves in #cell the pair's cell or the empty cell where it would go. */
  #find(f: number, subject: string, h: number): number {
    const table = this.#table;
    const mask = (table.length >> 1) - 1;
    let cell = h & mask;
    for (;;) {
      const e = table[2 * cell]! - 1;
      if (e < 0) break;
      if (table[2 * cell + 1] === h && this.#slots[4 * e] === f && this.#subjects[e] === subject) {
        this.#cell = cell;
        return e;
      }
      cell = (cell + 1) & mask;
    }
    this.#cell = cell;
    return -1;
  }

  /** Take slot i out of the table, shifting back the entries of its probe run (no tombstones). */
  #remove(i: number): void {
    const table = this.#table;
    const mask = (table.length >> 1) - 1;
    let hole = this.#slots[4 * i + 1]! & mask;
    while (table[2 * hole] !== i + 1) hole = (hole + 1) & mask;
    let cell = hole;
    for (;;) {
      cell = (cell + 1) & mask;
      const e = table[2 * cell]!;
      if (e === 0) break;
      const h = table[2 * cell + 1]!;
      const home = h & mask;
      // Move the entry into the hole unless its home lies cyclically in (hole, cell].
      if (hole <= cell ? home <= hole || home > cell : home <= hole && home > cell) {
        table[2 * hole] = e;
        table[2 * hole + 1] = h;
        hole = cell;
      }
    }
    table[2 * hole] = 0;
  }

  /** Room for `slots` pairs; the table is rebuilt from the stored hashes. */
  #grow(slots: number): void {
    const old = this.#slots;
    this.#slots = new Int32Array(4 * slots);
    this.#slots.set(old);
    this.#room = slots;
    let cells = 16;
    while (cells < slots * 2) cells *= 2;
    const table = new Int32Array(2 * cells);
    const mask = cells - 1;
    for (let e = 0; e < this.#size; e++) {
      const h = this.#slots[4 * e + 1]!;
      let cell = h & mask;
      while (table[2 * cell] !== 0) cell = (cell + 1) & mask;
      table[2 * cell] = e + 1;
      table[2 * cell + 1] = h;
    }
    this.#table = table;
  }

  #touch(i: number): void {
    if (i === this.#head) return;
    this.#unlink(i);
    this.#pushFront(i);
  }

  #unlink(i: number): void {
    const s = this.#slots;
    const p = s[4 * i + 2]!;
    const n = s[4 * i + 3]!;
    if (p === -1) this.#head = n;
    else s[4 * p + 3] = n;
    if (n === -1) this.#tail = p;
    else s[4 * n + 2] = p;
  }

  #pushFront(i: number): void {
    const s = this.#slots;
    s[4 * i + 2] = -1;
    s[4 * i + 3] = this.#head;
    if (this.#head !== -1) s[4 * this.#head + 2] = i;
    this.#head = i;
    if (this.#tail === -1) this.#tail = i;
  }
}

/** A 32-bit hash of (flag id, subject): FNV-1a over pairs of UTF-16 units (half the dependent multiplies), then a murmur3 finalizer. */
function pairHash(flag: number, subject: string): number {
  let h = Math.imul(flag + 1, 0x9e3779b1) ^ 0x811c9dc5;
  const n = subject.length;
  let k = 0;
  for (; k + 1 < n; k += 2) h = Math.imul(h ^ (subject.charCodeAt(k) | (subject.charCodeAt(k + 1) << 16)), 0x01000193);
  if (k < n) h = Math.imul(h ^ subject.charCodeAt(k) ^ 0x10000, 0x01000193);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/** The dedupe capacity for an `assignmentCacheSize` option: default 50 000 (as Eppo's node SDK), `false` → 0 (off). */
export function dedupeCapacity(size: number | false | undefined): number {
  return size === false ? 0 : (size ?? 50_000);
}

/** A sink's dedupe: the built-in LRU, or a user's cache of Eppo's shape consulted instead of it. */
export class Dedupe {
  cache: DedupeCache;
  /** A user's cache (`useCustomAssignmentCache`), used instead of `cache` when set. */
  custom: AssignmentCache | null = null;

  constructor(capacity: number) {
    this.cache = new DedupeCache(capacity);
  }

  /**
   * A capacity for the built-in cache (0: none, Infinity: never evicts; entries of the previous one are dropped),
   * or a user's {@link AssignmentCache} (sync or async).
   */
  choose(cache: number | AssignmentCache): void {
    if (typeof cache === 'number') {
      this.custom = null;
      this.cache = new DedupeCache(cache);
    } else {
      this.custom = cache;
    }
  }
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
  readonly #dedupe: Dedupe;
  readonly #queue: AssignmentEvent[] = [];
  #warnedQueueFull = false;
  readonly #counters: Counters;

  constructor(options: EventSinkOptions) {
    this.#logger = safeLogger(options.logger);
    this.#counters = options.counters ?? new Counters();
    this.#assignmentLogger = options.assignmentLogger ?? null;
    this.#dedupe = new Dedupe(dedupeCapacity(options.assignmentCacheSize));
  }

  /**
   * Whether an event for this assignment would be delivered or queued: `value` (e.g. "allocation;variation")
   * is not what was last logged for (flag, subject), and the pre-logger queue has room. Callers build the event
   * only then, so repeats cost no allocation.
   */
  wants(flagKey: string, subjectKey: string, value: string): boolean {
    // Nobody can receive it (no logger, the pre-logger queue full): dropped, without a dedupe lookup — a repeat of
    // a queued assignment counts as dropped, not deduped.
    if (this.dropAll(1)) return false;
    // A user's cache (useCustomAssignmentCache) decides in send(); the built-in one here.
    if (this.#dedupe.custom === null && this.#dedupe.cache.has(flagKey, subjectKey, value)) {
      this.#counters.exposuresDeduped++;
      return false;
    }
    return true;
  }

  /** Deliver (or queue) an event that {@link wants} accepted, and remember the assignment as logged. */
  send(flagKey: string, subjectKey: string, value: string, event: AssignmentEvent): void {
    const dedupe = this.#dedupe;
    if (dedupe.custom !== null) return this.#sendThrough(dedupe.custom, flagKey, subjectKey, event);
    const target = this.#assignmentLogger;
    if (target === null) {
      this.#queue.push(event);
      dedupe.cache.set(flagKey, subjectKey, value);
      return;
    }
    // Only a successful call is remembered, so a failed one is retried on the next evaluation (eppo-spec §4.4).
    if (this.#call(target, event, flagKey, subjectKey, value)) dedupe.cache.set(flagKey, subjectKey, value);
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

  /** Choose the dedupe (see {@link Dedupe.choose}). */
  setCache(cache: number | AssignmentCache): void {
    this.#dedupe.choose(cache);
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

  /**
   * Call the logger; false when it failed (threw, or rejected at once), so the pair is not remembered as logged. A
   * later rejection forgets the pair (when `flagKey` is given) so it is logged again.
   */
  #call(target: AssignmentLogger, event: AssignmentEvent, flagKey: string | null, subjectKey: string, value: string): boolean {
    const counters = this.#counters;
    const result = invokeSandboxed(target, 'logAssignment', event, this.#logger, LABEL);
    if (result === THREW) {
      counters.exposuresFailed++;
      return false;
    }
    counters.exposuresLogged++;
    if (!canBeThenable(result)) return true;
    // A thenable may reject before watchResult returns (its `then` calling back at once): the pair is then not remembered.
    let pending = true;
    let rejectedAtOnce = false;
    watchResult(result, this.#logger, LABEL, () => {
      // A rejection: counted as failed (its call was counted as logged when it returned).
      counters.exposuresLogged--;
      counters.exposuresFailed++;
      if (pending) rejectedAtOnce = true;
      else if (flagKey !== null) this.#dedupe.cache.forget(flagKey, subjectKey, value);
    });
    pending = false;
    return !rejectedAtOnce;
  }

  /**
   * When nobody can receive events (no logger, the pre-logger queue full), counts `count` exposures as dropped
   * (warning once) and returns true; otherwise counts nothing and returns false. Batches ask it once per flag.
   */
  dropAll(count: number): boolean {
    if (this.#assignmentLogger !== null || this.#queue.length < MAX_QUEUED_EVENTS) return false;
    this.#dropped(count);
    return true;
  }

  #dropped(count = 1): void {
    this.#counters.exposuresDropped += count;
    if (!this.#warnedQueueFull) {
      this.#logger.warn(`No assignment logger set; dropping events beyond ${MAX_QUEUED_EVENTS}`);
      this.#warnedQueueFull = true;
    }
  }
}

export { callSandboxed } from './sandbox.ts';
