/**
 * Eppo's assignment cache interface (`useCustomAssignmentCache`): entries keyed on (subjectKey, flagKey) whose
 * whole value — (allocationKey, variationKey) for assignments, (banditKey, actionKey) for bandit draws — decides
 * whether an event repeats one already logged. `has` and `set` may be synchronous or return promises (a cache
 * backed by a shared store is how a fleet of instances dedupes exposures); a custom cache that throws or
 * rejects never reaches the getter: the event is then logged (better twice than never).
 * @module
 */
import type { Logger } from './logger.ts';
import { callSandboxed } from './sandbox.ts';

/** What an assignment cache keys on. */
export interface AssignmentCacheKey {
  /** The subject the event was for. */
  subjectKey: string;
  /** The flag the event was for. */
  flagKey: string;
}

/** The value compared: the assignment's allocation and variation. */
export interface VariationCacheValue {
  /** The allocation the subject matched. */
  allocationKey: string;
  /** The variation the subject was assigned. */
  variationKey: string;
}

/** The value compared for bandit draws: the bandit and the chosen action. */
export interface BanditCacheValue {
  /** The bandit that drew the action. */
  banditKey: string;
  /** The action drawn. */
  actionKey: string;
}

/** Eppo's `AssignmentCacheValue`. */
export type AssignmentCacheValue = VariationCacheValue | BanditCacheValue;

/** Eppo's `AssignmentCacheEntry`: the key and the value in one object. */
export type AssignmentCacheEntry = AssignmentCacheKey & AssignmentCacheValue;

/**
 * Eppo's `AssignmentCache`: `has(entry)` is true when `entry`'s value is what is stored for its key; `set(entry)`
 * stores it (replacing the key's previous value). Either may return a promise.
 */
export interface AssignmentCache {
  /** True when `entry`'s value is the one stored for its key (the event was already logged). */
  has(entry: AssignmentCacheEntry): boolean | Promise<boolean>;
  /** Store `entry`'s value for its key, replacing any previous value. */
  set(entry: AssignmentCacheEntry): void | Promise<unknown>;
}

/** Eppo's `AsyncMap`, for custom caches over an asynchronous store. */
export interface AsyncMap<K, V> {
  /** The value stored for `key`, or undefined. */
  get(key: K): Promise<V | undefined>;
  /** Store `value` for `key`. */
  set(key: K, value: V): Promise<void>;
  /** Whether a value is stored for `key`. */
  has(key: K): Promise<boolean>;
}

/** The string an entry's key maps to (Eppo's `assignmentCacheKeyToString`). */
export function assignmentCacheKeyToString(key: AssignmentCacheKey): string {
  return `${key.subjectKey.length}:${key.subjectKey};${key.flagKey}`;
}

/** The string an entry's value maps to (Eppo's `assignmentCacheValueToString`). */
export function assignmentCacheValueToString(value: AssignmentCacheValue): string {
  return 'banditKey' in value ? `${value.banditKey.length}:${value.banditKey};${value.actionKey}` : `${value.allocationKey.length}:${value.allocationKey};${value.variationKey}`;
}

/**
 * An in-memory {@link AssignmentCache}: least recently used entries go beyond `maxSize` (Infinity: never), and
 * entries older than `ttlMs` (Infinity: never) are treated as absent — Eppo's non-expiring, LRU and
 * expiring (TLRU) caches in one.
 */
export class InMemoryAssignmentCache implements AssignmentCache {
  readonly #max: number;
  readonly #ttl: number;
  readonly #now: () => number;
  readonly #map = new Map<string, { value: string; at: number }>();

  /** Build a cache holding at most `maxSize` entries, each for at most `ttlMs` milliseconds, timed by `now`. */
  constructor(maxSize = Number.POSITIVE_INFINITY, ttlMs = Number.POSITIVE_INFINITY, now: () => number = Date.now) {
    if (!(maxSize >= 0)) throw new RangeError('maxSize must be a non-negative number');
    if (!(ttlMs > 0)) throw new RangeError('timeout must be a positive number of milliseconds');
    this.#max = maxSize;
    this.#ttl = ttlMs;
    this.#now = now;
  }

  /** True when `entry`'s value is the one stored, unexpired, for its key (refreshes its recency). */
  has(entry: AssignmentCacheEntry): boolean {
    const key = assignmentCacheKeyToString(entry);
    const stored = this.#map.get(key);
    if (stored === undefined) return false;
    if (this.#now() - stored.at >= this.#ttl) {
      this.#map.delete(key);
      return false;
    }
    // Refresh recency.
    this.#map.delete(key);
    this.#map.set(key, stored);
    return stored.value === assignmentCacheValueToString(entry);
  }

  /** Store `entry`'s value for its key, evicting the least recently used entry beyond `maxSize`. */
  set(entry: AssignmentCacheEntry): void {
    if (this.#max === 0) return;
    const key = assignmentCacheKeyToString(entry);
    this.#map.delete(key);
    this.#map.set(key, { value: assignmentCacheValueToString(entry), at: this.#now() });
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value as string);
  }

  /** The number of entries held (expired ones included until next looked up). */
  get size(): number {
    return this.#map.size;
  }
}

/**
 * Ask a user cache whether `entry` was logged; `deliver` runs when it was not (at once for a synchronous cache,
 * when the promise settles for an asynchronous one) and returns whether delivery succeeded, in which case the
 * entry is stored; `onSeen` runs when the cache had it. Nothing thrown or rejected by the cache escapes.
 */
export function throughCustomCache(cache: AssignmentCache, entry: AssignmentCacheEntry, logger: Logger, deliver: () => boolean, onSeen?: () => void): void {
  let seen: unknown = false;
  const asked = callSandboxed(() => (seen = cache.has(entry)), logger, 'Custom assignment cache has()', () => {});
  const after = (wasLogged: unknown): void => {
    if (wasLogged === true) return onSeen?.();
    if (deliver()) callSandboxed(() => cache.set(entry), logger, 'Custom assignment cache set()', () => {});
  };
  if (!asked) return after(false);
  if (seen !== null && typeof seen === 'object' && typeof (seen as Promise<unknown>).then === 'function') {
    (seen as Promise<unknown>).then(after, () => after(false));
  } else {
    after(seen);
  }
}

/** Checks that `cache` has Eppo's `has` and `set` methods. */
export function checkCache(cache: unknown, method: string): AssignmentCache {
  if (typeof cache !== 'object' || cache === null || typeof (cache as AssignmentCache).has !== 'function' || typeof (cache as AssignmentCache).set !== 'function') {
    throw new TypeError(`${method}() needs an object with has(entry) and set(entry) methods`);
  }
  return cache as AssignmentCache;
}
