/**
 * The live client: `init` (awaits the first config), `createClient` (returns at once), `getInstance`.
 * @module
 * @example
 * const client = await init({ apiKey: process.env.EPPO_SDK_KEY!, assignmentLogger });
 * client.getBooleanAssignment('new-checkout', userId, { country }, false);
 */
import { type ClientOptions, SaltshardClient } from '../client.ts';
import { asError } from '../events/sandbox.ts';
import type { Logger } from '../events/logger.ts';
import { SDK_NAME, SDK_VERSION } from '../version.ts';
import { type PersistentCache, fileCache } from './cache.ts';
import { configBaseUrl, configUrl } from './endpoint.ts';
import { ConfigPush, type ConfigSourceOption, newerOnly, relayBaseUrl } from './stream.ts';
import { DEFAULT_MAX_RESPONSE_BYTES, type FetchLike } from './fetcher.ts';
import { ConfigSync } from './sync.ts';
import { EVENT_TRACKING_OPTIONS, EventDispatcher, type EventTrackingOptions, ingestionUrlFromKey } from '../events/tracking.ts';

/** Options of {@link init} and {@link createClient}. */
export interface InitOptions extends ClientOptions {
  /** The Eppo SDK key (also accepted as `sdkKey`). */
  apiKey?: string;
  /** Alias of `apiKey`. */
  sdkKey?: string;
  /** Config server base URL; default Eppo's CDN, or the subdomain named in the SDK key. */
  baseUrl?: string;
  /** Default 30 000. Polls run up to 10 % earlier (jitter). */
  pollingIntervalMs?: number;
  /** Deadline for a whole response, headers and body. Default 5 000. */
  requestTimeoutMs?: number;
  /** Extra initial attempts before giving up on the first fetch. Default 1. */
  numInitialRequestRetries?: number;
  /**
   * Eppo's option: polling stops for good after `1 + numPollRequestRetries` failed polls in a row (Eppo's default 7).
   * Unset (saltshard's default), polling never stops: it backs off and recovers within one interval of the server's return.
   */
  numPollRequestRetries?: number;
  /** Eppo's event tracking for `client.track()`: off unless `enabled: true` (see src/events/tracking.ts). */
  eventTracking?: EventTrackingOptions;
  /** `init` rejects when the first fetch fails and no cached config exists. Default true. */
  throwOnFailedInitialization?: boolean;
  /**
   * Keep polling after a failed start, so a service that boots during an outage becomes ready within one polling
   * interval of the server's return. Default true (Eppo's SDKs default to false); false stops after a failed start.
   */
  pollAfterFailedInitialization?: boolean;
  /** Largest response accepted, in decompressed bytes, enforced while streaming (gzip bombs included). Default 64 MiB. */
  maxResponseBytes?: number;
  /** Retry delay after 401/403. Default 300 000 (5 minutes). */
  unauthorizedRetryMs?: number;
  /** A custom fetch (proxies, tests). Default the global fetch. */
  fetch?: FetchLike;
  /** Last good config between runs: a file path, or an object with get()/set(text). */
  persistentCache?: string | PersistentCache;
  /**
   * Get the config from a `saltshard serve` relay instead of Eppo's CDN: `{ relay: 'http://flags:8016', mode:
   * 'stream' }` applies each change as the relay pushes it (SSE; `longpoll` for runtimes without streaming bodies),
   * polling the relay every `pollingIntervalMs` only while the push connection is down. `apiKey` is sent to the
   * relay (its `--token`, when it has one).
   */
  configSource?: ConfigSourceOption;
}

let instance: SaltshardClient | null = null;

/**
 * Create a client that fetches its config in the background and polls; returns at once.
 * Getters serve a cached config, or defaults, until the first config arrives (`await client.waitForInitialization()`).
 * @throws {TypeError | RangeError} for missing or invalid options (never mentioning the key's value).
 */
export function createClient(options: InitOptions): SaltshardClient {
  return start(options).client;
}

/**
 * Create a client, wait for its first config, make it the instance `getInstance()` returns.
 * @returns the client.
 * @throws {Error} when the first fetch failed and no cached config exists, unless `throwOnFailedInitialization: false`.
 */
export async function init(options: InitOptions): Promise<SaltshardClient> {
  const { client, sync, ready } = start(options);
  const ok = await ready;
  if (!ok && !client.isInitialized() && options.throwOnFailedInitialization !== false) {
    if (options.pollAfterFailedInitialization === false) sync.stop();
    else instance = client;
    throw new Error(`saltshard: the initial config fetch failed (${client.sandbox.scrub(sync.status().lastError ?? 'unknown error')})`);
  }
  instance = client;
  return client;
}

/** @internal Make `client` the instance `getInstance()` returns (Eppo's node SDK 4.x `offlineInit` does). */
export function setInstance(client: SaltshardClient): void {
  instance = client;
}

/**
 * The client made by the last successful `init` (or the module-level `offlineInit`).
 * @throws {Error} before `init`.
 */
export function getInstance(): SaltshardClient {
  if (instance === null) throw new Error('saltshard: call init() before getInstance()');
  return instance;
}

function start(options: InitOptions): { client: SaltshardClient; sync: ConfigSync; ready: Promise<boolean> } {
  const { client, sync, push } = setup(options);
  const ready = sync.start();
  push?.start();
  client.attachSync({
    ready,
    refresh: () => sync.refresh(),
    stop: () => {
      sync.stop();
      push?.stop();
    },
    status: () => (push === null ? sync.status() : { ...sync.status(), push: push.status() }),
  });
  return { client, sync, ready };
}

function setup(options: InitOptions): { client: SaltshardClient; sync: ConfigSync; push: ConfigPush | null } {
  if (typeof options !== 'object' || options === null) throw new TypeError('init() needs an options object');
  const apiKey = options.apiKey ?? options.sdkKey;
  if (typeof apiKey !== 'string' || apiKey.trim() === '') throw new TypeError('init() needs apiKey (or sdkKey): your Eppo SDK key');
  const fetchFn = options.fetch ?? (globalThis.fetch as FetchLike | undefined);
  if (typeof fetchFn !== 'function') throw new TypeError('no fetch available: pass options.fetch');
  const cacheOption = options.persistentCache;
  if (cacheOption != null && typeof cacheOption !== 'string' && (typeof cacheOption.get !== 'function' || typeof cacheOption.set !== 'function')) {
    throw new TypeError('persistentCache must be a file path or an object with get() and set(text)');
  }
  const client = new SaltshardClient(options);
  // Every user callback (the logger, a custom cache) runs through the client's sandbox (src/events/sandbox.ts).
  // The key never reaches a log line, an event or an error, even when a response body echoes it.
  client.sandbox.redact(apiKey);
  const logger = client.sandbox.logger;
  warnUnknownOptions(options, logger);
  let cache: PersistentCache | null = null;
  if (typeof cacheOption === 'string') cache = fileCache(cacheOption, apiKey, logger);
  else if (cacheOption != null) cache = sandboxedCache(cacheOption);
  const source = options.configSource;
  if (source != null && (typeof source !== 'object' || (source.mode !== undefined && !['stream', 'longpoll', 'poll'].includes(source.mode)))) {
    throw new TypeError("configSource must be { relay: URL, mode?: 'stream' | 'longpoll' | 'poll' }");
  }
  const relay = source == null ? null : relayBaseUrl(source.relay);
  const base = relay === null ? configBaseUrl(apiKey, options.baseUrl) : `${relay}/api`;
  // Through a relay, configs can arrive by push and by poll: neither may replace a config with an older one.
  const target = relay === null ? client : newerOnly(client);
  const push = relay === null ? null : new ConfigPush(target as ReturnType<typeof newerOnly>, {
    relay, mode: source!.mode ?? 'stream', apiKey, fetch: (url, init) => fetchFn(url, init), logger,
    onBreak: () => void sync.refresh(),
  });
  const sync: ConfigSync = new ConfigSync(target, {
    url: configUrl(base, apiKey, SDK_NAME, SDK_VERSION),
    banditsUrl: configUrl(base, apiKey, SDK_NAME, SDK_VERSION, 'bandits'),
    fetch: (url, init) => fetchFn(url, init),
    logger,
    pollingIntervalMs: positive('pollingIntervalMs', options.pollingIntervalMs, 30_000),
    requestTimeoutMs: positive('requestTimeoutMs', options.requestTimeoutMs, 5_000),
    numInitialRequestRetries: count('numInitialRequestRetries', options.numInitialRequestRetries, 1),
    numPollRequestRetries: options.numPollRequestRetries === undefined ? null : count('numPollRequestRetries', options.numPollRequestRetries, 7),
    pollAfterFailedInitialization: options.pollAfterFailedInitialization !== false,
    unauthorizedRetryMs: positive('unauthorizedRetryMs', options.unauthorizedRetryMs, 300_000),
    maxResponseBytes: byteCount('maxResponseBytes', options.maxResponseBytes, DEFAULT_MAX_RESPONSE_BYTES),
    cache,
    skipPoll: push === null ? undefined : () => push.connected,
    scrub: (text) => client.sandbox.scrub(text),
  });
  const tracker = eventDispatcher(options.eventTracking, apiKey, logger, fetchFn);
  if (tracker !== null) client.setEventDispatcher(tracker);
  return { client, sync, push };
}

/** The dispatcher for `eventTracking` (null unless enabled and a URL is known); invalid settings throw, naming them. */
function eventDispatcher(tracking: EventTrackingOptions | undefined, apiKey: string, logger: Logger, fetchFn: FetchLike): EventDispatcher | null {
  if (tracking == null) return null;
  if (typeof tracking !== 'object') throw new TypeError('eventTracking must be an object, e.g. { enabled: true }');
  const unknown = Object.keys(tracking).filter((k) => !EVENT_TRACKING_OPTIONS.includes(k));
  if (unknown.length > 0) logger.warn(`init(): unknown eventTracking option${unknown.length > 1 ? 's' : ''} ignored: ${unknown.join(', ')}`);
  if (tracking.enabled !== true) return null;
  const settings: EventTrackingOptions = {
    batchSize: integer('eventTracking.batchSize', tracking.batchSize, 1000),
    deliveryIntervalMs: positive('eventTracking.deliveryIntervalMs', tracking.deliveryIntervalMs, 10_000),
    maxQueueSize: integer('eventTracking.maxQueueSize', tracking.maxQueueSize, 10_000),
    maxRetries: count('eventTracking.maxRetries', tracking.maxRetries, 3),
    maxRetryDelayMs: positive('eventTracking.maxRetryDelayMs', tracking.maxRetryDelayMs, 30_000),
    retryIntervalMs: positive('eventTracking.retryIntervalMs', tracking.retryIntervalMs, 5_000),
    closeTimeoutMs: positive('eventTracking.closeTimeoutMs', tracking.closeTimeoutMs, 5_000),
  };
  let url = ingestionUrlFromKey(apiKey);
  if (tracking.ingestionUrl !== undefined) {
    try {
      url = new URL(String(tracking.ingestionUrl)).href;
    } catch {
      throw new TypeError('eventTracking.ingestionUrl is not a valid URL');
    }
    if (!/^https?:$/.test(new URL(url).protocol)) throw new TypeError('eventTracking.ingestionUrl must be http(s)');
  }
  if (url === null) {
    logger.warn('init(): eventTracking is enabled, but the SDK key names no event ingestion host and no eventTracking.ingestionUrl is given: track() events are discarded');
    return null;
  }
  return new EventDispatcher(apiKey, url, settings, logger, ((input: string, init: RequestInit) => fetchFn(input, init)) as unknown as typeof fetch);
}

/** A user's cache whose failures (throws, rejections, unprintable values) reach the sync as plain Errors it reports. */
function sandboxedCache(cache: PersistentCache): PersistentCache {
  return {
    get: async () => {
      try {
        return await cache.get();
      } catch (err) {
        throw asError(err);
      }
    },
    set: async (text) => {
      try {
        await cache.set(text);
      } catch (err) {
        throw asError(err);
      }
    },
  };
}

/** Every option of {@link InitOptions}, once: the compiler rejects a missing or an extra name. */
const OPTION_NAMES: Record<keyof InitOptions, true> = {
  apiKey: true, sdkKey: true, baseUrl: true, pollingIntervalMs: true, requestTimeoutMs: true, numInitialRequestRetries: true,
  throwOnFailedInitialization: true, pollAfterFailedInitialization: true, maxResponseBytes: true, unauthorizedRetryMs: true,
  fetch: true, persistentCache: true, configSource: true, numPollRequestRetries: true, eventTracking: true,
  assignmentLogger: true, logger: true, assignmentCacheSize: true, now: true, kernel: true, banditLogger: true,
};
const KNOWN_OPTIONS: ReadonlySet<string> = new Set(Object.keys(OPTION_NAMES));

/** One warning naming every option saltshard does not know; never silence. */
function warnUnknownOptions(options: object, logger: Logger): void {
  const unknown = Object.keys(options).filter((k) => !KNOWN_OPTIONS.has(k));
  if (unknown.length > 0) logger.warn(`init(): unknown option${unknown.length > 1 ? 's' : ''} ignored: ${unknown.join(', ')}`);
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of milliseconds`);
  return value;
}

function integer(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer`);
  return value;
}

function byteCount(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer number of bytes`);
  return value;
}

function count(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 100) throw new RangeError(`${name} must be an integer from 0 to 100`);
  return value;
}
