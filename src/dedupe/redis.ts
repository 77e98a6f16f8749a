/**
 * Exposure dedupe shared by every instance of a service, in Redis: an exposure is logged by the first instance
 * that claims it with `SET <key> 1 NX PX <ttl>`, the key naming (flag, subject, allocation, variation). A local
 * LRU in front answers repeats without a round trip; commands issued in the same tick share one write; a claim
 * that Redis does not answer within `timeoutMs` (or while it is down) falls back to the local LRU, so logging is
 * never held longer than that bound and getters, which never wait for it, are never slowed.
 * @module
 */
import { type AssignmentEvent, type AssignmentLogger, DedupeCache, type Logger, callSandboxed, consoleLogger } from '../events/logger.ts';
import { type RespOptions, RespClient } from './resp.ts';

/** Eppo's AssignmentCacheEntry: the (subject, flag) key and the (allocation, variation) value. */
export interface AssignmentCacheEntry {
  /** The subject the exposure was for. */
  subjectKey: string;
  /** The flag evaluated. */
  flagKey: string;
  /** The allocation that matched, if any. */
  allocationKey?: string;
  /** The variation assigned, if any. */
  variationKey?: string;
  /** The bandit, for bandit actions. */
  banditKey?: string;
  /** The action chosen, for bandit actions. */
  actionKey?: string;
}

/** Options of {@link RedisAssignmentCache}. */
export interface RedisAssignmentCacheOptions extends Omit<RespOptions, 'onState'> {
  /** `redis://[user:password@]host:port`; overrides host, port, username and password. */
  url?: string;
  /** Key prefix. Default `saltshard:exposure:`. */
  keyPrefix?: string;
  /** How long a claim lasts (the dedupe window shared by the fleet). Default 24 h. */
  ttlMs?: number;
  /** Entries of the local LRU in front. Default 50 000. */
  localSize?: number;
  /** Connection changes are reported here (warn when lost, info when back). */
  logger?: Logger;
}

/** Counters of a {@link RedisAssignmentCache}. */
export interface RedisCacheStats {
  /** Claims asked. */
  claims: number;
  /** Claims won: the exposure is logged by this instance. */
  won: number;
  /** Claims lost: another instance already logged it. */
  sharedDuplicates: number;
  /** Claims answered by the local LRU without asking Redis. */
  localDuplicates: number;
  /** Claims decided locally because Redis was down or late. */
  fallbacks: number;
  /** Of the fallbacks: Redis too slow (timeoutMs). */
  timeouts: number;
  /** Fallbacks because Redis was unreachable or overloaded. */
  unavailable: number;
  /** Whether the Redis connection is up. */
  connected: boolean;
}

/**
 * An assignment cache shared through Redis, in Eppo's AssignmentCache shape with asynchronous answers:
 * `has(entry)` claims the entry atomically and resolves true when it was already logged (by any instance);
 * `set(entry)` records it locally. Use it through {@link dedupedLogger}, or as a client's custom assignment cache.
 * @example
 * const cache = new RedisAssignmentCache({ url: 'redis://127.0.0.1:6379', timeoutMs: 20 });
 * const client = await init({ apiKey, assignmentLogger: dedupedLogger(cache, sink) });
 */
export class RedisAssignmentCache {
  readonly #redis: RespClient;
  readonly #local: DedupeCache;
  readonly #prefix: string;
  readonly #ttlMs: number;
  readonly #stats = { claims: 0, won: 0, sharedDuplicates: 0, localDuplicates: 0, fallbacks: 0 };

  /** Connect to Redis (from `url`, or host and port) with a local LRU in front; throws RangeError on a bad `ttlMs`. */
  constructor(options: RedisAssignmentCacheOptions = {}) {
    const logger = options.logger ?? consoleLogger;
    const conn: RespOptions = { ...options, ...(options.url !== undefined ? fromUrl(options.url) : {}) };
    this.#prefix = options.keyPrefix ?? 'saltshard:exposure:';
    this.#ttlMs = Math.floor(options.ttlMs ?? 86_400_000);
    if (!(this.#ttlMs >= 1)) throw new RangeError('ttlMs must be at least 1');
    this.#local = new DedupeCache(options.localSize ?? 50_000);
    let lost = false;
    this.#redis = new RespClient({
      ...conn,
      onState: (state, where) => {
        if (state === 'disconnected' && !lost) logger.warn(`Redis at ${where} unreachable: exposure dedupe is local to this process until it is back`);
        if (state === 'connected' && lost) logger.info?.(`Redis at ${where} back: exposure dedupe is shared again`);
        lost = state === 'disconnected';
      },
    });
  }

  /**
   * Claim the entry for this process.
   * @returns true when this process should log it: nobody had (Redis said OK), or Redis did not answer in time and
   *   the local LRU had not seen it. Never rejects; resolves within `timeoutMs`.
   */
  async claim(entry: AssignmentCacheEntry): Promise<boolean> {
    this.#stats.claims++;
    const value = entry.banditKey !== undefined ? `b;${entry.banditKey};${entry.actionKey ?? ''}` : `${entry.allocationKey ?? ''};${entry.variationKey ?? ''}`;
    if (this.#local.has(entry.flagKey, entry.subjectKey, value)) {
      this.#stats.localDuplicates++;
      return false;
    }
    // Remembered at once, so a repeat in this process while the claim is in flight is not claimed twice.
    this.#local.set(entry.flagKey, entry.subjectKey, value);
    const key = `${this.#prefix}${entry.flagKey.length}:${entry.flagKey}:${entry.subjectKey.length}:${entry.subjectKey}:${value}`;
    const r = await this.#redis.command(['SET', key, '1', 'NX', 'PX', this.#ttlMs]);
    if (!r.ok || r.value instanceof Error) {
      this.#stats.fallbacks++;
      return true;
    }
    if (r.value === null) {
      this.#stats.sharedDuplicates++;
      return false;
    }
    this.#stats.won++;
    return true;
  }

  /** Eppo's `has`: true when the entry was already logged (claims it otherwise). */
  async has(entry: AssignmentCacheEntry): Promise<boolean> {
    return !(await this.claim(entry));
  }

  /** Eppo's `set`: the claim in {@link has} already recorded the entry; kept for the interface. */
  set(entry: AssignmentCacheEntry): void {
    const value = entry.banditKey !== undefined ? `b;${entry.banditKey};${entry.actionKey ?? ''}` : `${entry.allocationKey ?? ''};${entry.variationKey ?? ''}`;
    this.#local.set(entry.flagKey, entry.subjectKey, value);
  }

  /** A copy of the counters. */
  stats(): RedisCacheStats {
    const c = this.#redis.counters;
    return { ...this.#stats, timeouts: c.timeouts, unavailable: c.disconnected + c.overloaded, connected: this.#redis.connected };
  }

  /** Close the connection. */
  close(): void {
    this.#redis.close();
  }
}

/**
 * An assignment logger that passes on only the exposures this instance wins in the shared cache.
 * @param logger where won exposures go (a sink, or your own logger); its failures are reported, never thrown.
 */
export function dedupedLogger(cache: RedisAssignmentCache, logger: AssignmentLogger, diagnostics: Logger = consoleLogger): AssignmentLogger {
  return {
    logAssignment(event: AssignmentEvent): void {
      void cache.claim({ subjectKey: event.subject, flagKey: event.featureFlag, allocationKey: event.allocation ?? '', variationKey: event.variation ?? '' }).then((won) => {
        if (won) callSandboxed(() => logger.logAssignment(event), diagnostics, 'Assignment logger', () => {});
      });
    },
  };
}

function fromUrl(url: string): RespOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TypeError('url must look like redis://[user:password@]host:port');
  }
  if (u.protocol !== 'redis:') throw new TypeError('url must use redis:// (TLS is not supported)');
  return {
    host: u.hostname || '127.0.0.1',
    port: u.port ? Number(u.port) : 6379,
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
  };
}
