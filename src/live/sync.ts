/**
 * Keeps a client's config current: serves a persistent cache at start, fetches with retries, then polls forever.
 * Polling never stops on failures (reliability-plan §0.1): after a failure it retries sooner and backs off,
 * capped at the polling interval, so it recovers within one interval of the server; 401/403 warn once and retry
 * every `unauthorizedRetryMs`; 429 waits for Retry-After. A failed or invalid response keeps the last good config.
 * @module
 */
import { compileConfig } from '../config/compile.ts';
import { describeError } from '../errors.ts';
import type { Logger } from '../events/logger.ts';
import type { PersistentCache } from './cache.ts';
import { type FetchLike, type FetchOutcome, fetchConfig } from './fetcher.ts';
import type { PushStatus } from './stream.ts';

/** What a client needs from its config source. */
export interface ConfigTarget {
  setConfiguration(config: unknown): void;
  isInitialized(): boolean;
  /** True when the config in force references bandit models that are not loaded. */
  needsBanditModels(): boolean;
  /** Load Eppo's bandit parameters response. */
  setBanditConfiguration(models: unknown): void;
  /** Told of each failed fetch (`syncFailed`, our message) and of the first success after failures (`syncRecovered`). */
  emit(event: 'syncFailed' | 'syncRecovered', detail: unknown): void;
}

/** Settings of {@link ConfigSync}; all validated by the caller. */
export interface SyncSettings {
  url: string;
  /** Eppo's bandit parameters URL (fetched only when the config references missing models). */
  banditsUrl: string;
  fetch: FetchLike;
  logger: Logger;
  pollingIntervalMs: number;
  requestTimeoutMs: number;
  numInitialRequestRetries: number;
  /** Eppo's `numPollRequestRetries`: stop polling after `1 + n` consecutive failed polls; null never stops (the default). */
  numPollRequestRetries?: number | null;
  pollAfterFailedInitialization: boolean;
  unauthorizedRetryMs: number;
  cache: PersistentCache | null;
  /** When it returns true a scheduled poll is skipped (a relay's push connection is healthy: src/live/stream.ts). */
  skipPoll?: () => boolean;
  /** Most (decompressed) bytes accepted in a response; default 64 MiB. */
  maxResponseBytes?: number;
  /** Applied to every failure message before it is recorded, emitted or logged (e.g. removes the SDK key). */
  scrub?: (text: string) => string;
}

/** Counters and state, for health checks, metrics and tests. */
export interface SyncStatus {
  /** Requests made. */
  requests: number;
  /** Successful requests (200 or 304). */
  successes: number;
  /** Failed requests. */
  failures: number;
  /** Failures since the last success. */
  consecutiveFailures: number;
  /** HTTP status of the last response (0 network error, 408 timeout), or null before any. */
  lastStatus: number | null;
  /** Epoch ms of the last successful request, or null. */
  lastSuccessAt: number | null;
  /** Our own description of the last failure (never contains the SDK key). */
  lastError: string | null;
  /** Where the config in force came from. */
  source: 'none' | 'cache' | 'network';
  /** True while a next poll is scheduled (false once stopped). */
  polling: boolean;
  /** The relay push connection, for clients with `configSource` (src/live/stream.ts). */
  push?: PushStatus;
}

/** Fetches, applies and caches configs for one client. */
export class ConfigSync {
  readonly #s: SyncSettings;
  readonly #target: ConfigTarget;
  readonly #status: SyncStatus = {
    requests: 0, successes: 0, failures: 0, consecutiveFailures: 0, lastStatus: null, lastSuccessAt: null, lastError: null, source: 'none', polling: false,
  };
  #etag: string | null = null;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #stopped = false;
  readonly #closing = new AbortController();
  #warnedAuth = false;
  #lastWarnAt = 0;
  #warnedCacheWrite = false;
  /** Failed scheduled polls in a row (start attempts and refresh() calls are not counted, as in Eppo's poller). */
  #pollFailures = 0;

  constructor(target: ConfigTarget, settings: SyncSettings) {
    this.#target = target;
    this.#s = settings;
  }

  /** A copy of the counters. */
  status(): SyncStatus {
    return { ...this.#status };
  }

  /**
   * Load the cache, then try the network `1 + numInitialRequestRetries` times.
   * @returns true when a config came from the network; false otherwise (a cached config may still be served).
   */
  async start(): Promise<boolean> {
    await this.#loadCache();
    let outcome: FetchOutcome | null = null;
    for (let attempt = 0; attempt <= this.#s.numInitialRequestRetries && !this.#stopped; attempt++) {
      if (attempt > 0) await sleep(jitter(Math.min(1000, this.#s.pollingIntervalMs) * 0.1 + 1));
      outcome = await this.#once();
      if (outcome.kind !== 'error') break;
      // Not worth an immediate retry: a refused key, or a body over maxResponseBytes (the same answer again, and a
      // second download of up to the cap while the first is still garbage). Polling goes on as scheduled.
      if (outcome.status === 401 || outcome.status === 403 || outcome.status === 413) break;
    }
    const ok = this.#status.successes > 0;
    if (ok || this.#target.isInitialized() || this.#s.pollAfterFailedInitialization) this.#schedule(outcome);
    return ok;
  }

  /** Stop polling and cancel a request in flight; nothing follows. */
  stop(): void {
    this.#stopped = true;
    this.#closing.abort();
    this.#status.polling = false;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  /** Fetch now, outside the schedule; resolves with the outcome once it is applied. */
  refresh(): Promise<FetchOutcome> {
    return this.#once();
  }

  async #loadCache(): Promise<void> {
    const cache = this.#s.cache;
    if (cache === null) return;
    try {
      const text = await cache.get();
      if (text === null || this.#target.isInitialized()) return;
      this.#target.setConfiguration(compileConfig(text));
      this.#status.source = 'cache';
    } catch (err) {
      this.#s.logger.warn(`Config cache${cache.location ? ` ${cache.location}` : ''} ignored: ${describeError(err)}`);
    }
  }

  async #once(): Promise<FetchOutcome> {
    this.#status.requests++;
    const outcome = await fetchConfig(this.#s.url, {
      timeoutMs: this.#s.requestTimeoutMs,
      etag: this.#target.isInitialized() ? this.#etag : null,
      fetch: this.#s.fetch,
      signal: this.#closing.signal,
      maxBytes: this.#s.maxResponseBytes,
    });
    if (this.#stopped) return outcome;
    if (outcome.kind === 'error') {
      this.#fail(outcome.status, `Config fetch failed: ${outcome.message}`);
      return outcome;
    }
    this.#status.lastStatus = outcome.kind === 'ok' ? 200 : 304;
    if (outcome.kind === 'ok') {
      try {
        this.#target.setConfiguration(compileConfig(outcome.text));
      } catch (err) {
        // An invalid document keeps the last good config (its message names a JSON path, never the key).
        this.#fail(200, `Config rejected: ${(err as Error).message}`);
        return { kind: 'error', status: 200, message: 'invalid config', retryAfterMs: null };
      }
      this.#etag = outcome.etag;
      this.#status.source = 'network';
      void this.#writeCache(outcome.text);
    }
    if (this.#target.needsBanditModels()) await this.#fetchBandits();
    this.#status.successes++;
    if (this.#status.consecutiveFailures > 0) {
      this.#s.logger.info?.(`Config fetch recovered after ${this.#status.consecutiveFailures} failures`);
      this.#target.emit('syncRecovered', null);
    }
    this.#status.consecutiveFailures = 0;
    this.#status.lastSuccessAt = Date.now();
    this.#status.lastError = null;
    this.#warnedAuth = false;
    return outcome;
  }

  #fail(status: number, text: string): void {
    const message = this.#s.scrub ? this.#s.scrub(text) : text;
    this.#status.failures++;
    this.#status.consecutiveFailures++;
    this.#status.lastStatus = status;
    this.#status.lastError = message;
    this.#target.emit('syncFailed', message);
    if (status === 401 || status === 403) {
      if (!this.#warnedAuth) this.#s.logger.warn(`${message}: the SDK key was refused; retrying every ${Math.round(this.#s.unauthorizedRetryMs / 1000)} s`);
      this.#warnedAuth = true;
    } else if (this.#status.consecutiveFailures === 1 || Date.now() - this.#lastWarnAt >= WARN_EVERY_MS) {
      // One warning when an outage starts, then at most one a minute: fast retries must not flood the logs.
      this.#lastWarnAt = Date.now();
      const n = this.#status.consecutiveFailures;
      this.#s.logger.warn(`${message}; ${this.#keeping()}${n > 1 ? ` (${n} failures in a row)` : ''}`);
    } else {
      this.#s.logger.debug?.(`${message}; ${this.#keeping()}`);
    }
  }

  /** What the client serves meanwhile, truthfully: the last good config, the cached one, or nothing yet. */
  #keeping(): string {
    if (!this.#target.isInitialized()) return 'no config yet: getters return their defaults until a fetch succeeds';
    return this.#status.source === 'cache' ? 'serving the cached config' : 'keeping the last good config';
  }

  /** Fetch and load bandit models; a failure is reported and retried on the next poll, the config stays. */
  async #fetchBandits(): Promise<void> {
    const outcome = await fetchConfig(this.#s.banditsUrl, { timeoutMs: this.#s.requestTimeoutMs, etag: null, fetch: this.#s.fetch, signal: this.#closing.signal, maxBytes: this.#s.maxResponseBytes });
    if (this.#stopped) return;
    try {
      if (outcome.kind === 'error') throw new Error(outcome.message);
      if (outcome.kind === 'ok') this.#target.setBanditConfiguration(outcome.text);
    } catch (err) {
      this.#s.logger.warn(`Bandit models not loaded: ${(err as Error).message}; bandit flags serve their variation without an action`);
    }
  }

  async #writeCache(text: string): Promise<void> {
    if (this.#s.cache === null) return;
    try {
      await this.#s.cache.set(text);
      this.#warnedCacheWrite = false;
    } catch (err) {
      const where = this.#s.cache.location ? ` ${this.#s.cache.location}` : '';
      if (!this.#warnedCacheWrite) this.#s.logger.warn(`Config cache${where} not written: ${describeError(err)}; continuing in memory`);
      this.#warnedCacheWrite = true;
    }
  }

  #schedule(last: FetchOutcome | null): void {
    if (this.#stopped) return;
    this.#status.polling = true;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      if (this.#s.skipPoll?.()) return this.#schedule(null);
      // Whatever happens in one poll, the next one is scheduled (an unexpected failure waits a full interval).
      this.#once().then((outcome) => this.#afterPoll(outcome), () => this.#schedule(null));
    }, Math.min(MAX_TIMER_MS, this.#nextDelay(last)));
    // A poller alone must not keep a script alive.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  /** Schedule the next poll, unless `numPollRequestRetries` is set and that many retries have failed. */
  #afterPoll(outcome: FetchOutcome): void {
    const limit = this.#s.numPollRequestRetries;
    if (outcome.kind !== 'error') this.#pollFailures = 0;
    else if (limit != null && ++this.#pollFailures >= 1 + limit) {
      if (this.#stopped) return;
      this.#status.polling = false;
      this.#s.logger.error(`Config polling stopped after ${this.#pollFailures} failed polls in a row (numPollRequestRetries: ${limit}); serving the last config until fetchFlagConfigurations() succeeds`);
      return;
    }
    this.#schedule(outcome);
  }

  #nextDelay(last: FetchOutcome | null): number {
    const interval = this.#s.pollingIntervalMs;
    if (last === null || last.kind !== 'error') return jitter(interval);
    if (last.status === 401 || last.status === 403) return jitter(this.#s.unauthorizedRetryMs);
    // After k consecutive failures: interval/16 · 2^(k-1), never more than the interval itself.
    const k = Math.max(1, this.#status.consecutiveFailures);
    const backoff = jitter(Math.min(interval, (interval / 16) * 2 ** (k - 1)));
    return last.retryAfterMs !== null ? Math.max(backoff, Math.min(last.retryAfterMs, MAX_RETRY_AFTER_MS)) : backoff;
  }
}

/** Retry-After is honoured up to 1 hour (reliability-plan §7), so a bad header cannot freeze updates for days. */
const MAX_RETRY_AFTER_MS = 3_600_000;
/** Longer timers fire after 1 ms on Node, Bun and Deno (32-bit overflow), which would turn polling into a storm. */
const MAX_TIMER_MS = 2 ** 31 - 1;

const WARN_EVERY_MS = 60_000;

/** Up to 10 % less than `ms`, so polls spread out but never run later than asked. */
export function jitter(ms: number): number {
  return Math.max(1, Math.round(ms * (1 - Math.random() * 0.1)));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
