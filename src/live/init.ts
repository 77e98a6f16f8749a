/**
 * The live client: `init` (awaits the first config), `createClient` (returns at once), `getInstance`.
 * @module
 * @example
 * const client = await init({ apiKey: process.env.EPPO_SDK_KEY!, assignmentLogger });
 * client.getBooleanAssignment('new-checkout', userId, { country }, false);
 */
import { type ClientOptions, SaltshardClient } from '../client.ts';
import { asError } from '../events/sandbox.ts';
import { SDK_NAME, SDK_VERSION } from '../version.ts';
import { type PersistentCache, fileCache } from './cache.ts';
import { configBaseUrl, configUrl } from './endpoint.ts';
import type { FetchLike } from './fetcher.ts';
import { ConfigSync } from './sync.ts';

/** Options of {@link init} and {@link createClient}. */
export interface InitOptions extends ClientOptions {
  /** The Eppo SDK key (also accepted as `sdkKey`). */
  apiKey?: string;
  sdkKey?: string;
  /** Config server base URL; default Eppo's CDN, or the subdomain named in the SDK key. */
  baseUrl?: string;
  /** Default 30 000. Polls run up to 10 % earlier (jitter). */
  pollingIntervalMs?: number;
  /** Deadline for a whole response, headers and body. Default 5 000. */
  requestTimeoutMs?: number;
  /** Extra initial attempts before giving up on the first fetch. Default 1. */
  numInitialRequestRetries?: number;
  /** `init` rejects when the first fetch fails and no cached config exists. Default true. */
  throwOnFailedInitialization?: boolean;
  /** Keep polling after a failed start. Default false (as Eppo); polling never stops once a config is loaded. */
  pollAfterFailedInitialization?: boolean;
  /** Retry delay after 401/403. Default 300 000 (5 minutes). */
  unauthorizedRetryMs?: number;
  /** A custom fetch (proxies, tests). Default the global fetch. */
  fetch?: FetchLike;
  /** Last good config between runs: a file path, or an object with get()/set(text). */
  persistentCache?: string | PersistentCache;
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
    if (!options.pollAfterFailedInitialization) sync.stop();
    else instance = client;
    throw new Error(`saltshard: the initial config fetch failed (${sync.status().lastError ?? 'unknown error'})`);
  }
  instance = client;
  return client;
}

/**
 * The client made by the last successful `init`.
 * @throws {Error} before `init`.
 */
export function getInstance(): SaltshardClient {
  if (instance === null) throw new Error('saltshard: call init() before getInstance()');
  return instance;
}

function start(options: InitOptions): { client: SaltshardClient; sync: ConfigSync; ready: Promise<boolean> } {
  const { client, sync } = setup(options);
  const ready = sync.start();
  client.attachSync({ ready, refresh: () => sync.refresh(), stop: () => sync.stop(), status: () => sync.status() });
  return { client, sync, ready };
}

function setup(options: InitOptions): { client: SaltshardClient; sync: ConfigSync } {
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
  const logger = client.sandbox.logger;
  let cache: PersistentCache | null = null;
  if (typeof cacheOption === 'string') cache = fileCache(cacheOption, apiKey, logger);
  else if (cacheOption != null) cache = sandboxedCache(cacheOption);
  const base = configBaseUrl(apiKey, options.baseUrl);
  const sync = new ConfigSync(client, {
    url: configUrl(base, apiKey, SDK_NAME, SDK_VERSION),
    banditsUrl: configUrl(base, apiKey, SDK_NAME, SDK_VERSION, 'bandits'),
    fetch: (url, init) => fetchFn(url, init),
    logger,
    pollingIntervalMs: positive('pollingIntervalMs', options.pollingIntervalMs, 30_000),
    requestTimeoutMs: positive('requestTimeoutMs', options.requestTimeoutMs, 5_000),
    numInitialRequestRetries: count('numInitialRequestRetries', options.numInitialRequestRetries, 1),
    pollAfterFailedInitialization: options.pollAfterFailedInitialization === true,
    unauthorizedRetryMs: positive('unauthorizedRetryMs', options.unauthorizedRetryMs, 300_000),
    cache,
  });
  return { client, sync };
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

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of milliseconds`);
  return value;
}

function count(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 100) throw new RangeError(`${name} must be an integer from 0 to 100`);
  return value;
}
