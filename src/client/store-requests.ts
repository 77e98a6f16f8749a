/**
 * `fetchFlagConfigurations()` for a client made with Eppo's configuration stores: Eppo's request parameters, its
 * fetch-and-store (the flags, then the bandit references and models when both bandit stores are set), and its
 * poller's policy (initial attempts, polling only when asked, stopping after failed polls). The requests
 * themselves are saltshard's (src/live/fetcher.ts: a deadline covering the body, same-origin redirects, messages
 * that never carry the key).
 * @module
 */
import { parseConfig } from '../config/parse.ts';
import { errorText } from '../events/sandbox.ts';
import type { Logger } from '../events/logger.ts';
import { configBaseUrl, configUrl } from '../live/endpoint.ts';
import { fetchConfig } from '../live/fetcher.ts';
import type { BanditVariation, Environment, IConfigurationStore } from './stores.ts';

/** Eppo's `FlagConfigurationRequestParameters` (defaults as Eppo's). */
export interface FlagConfigurationRequestParameters {
  /** The SDK key. */
  apiKey: string;
  /** Sent as the `sdkName` query parameter. */
  sdkName: string;
  /** Sent as the `sdkVersion` query parameter. */
  sdkVersion: string;
  /** Default Eppo's CDN (or the subdomain the key names). */
  baseUrl?: string;
  /** Deadline for a whole response. Default 5 000. */
  requestTimeoutMs?: number;
  /** Default 30 000; polls wait this long plus 5–10 %. */
  pollingIntervalMs?: number;
  /** Extra initial attempts. Default 1. */
  numInitialRequestRetries?: number;
  /** Polling stops after `1 + n` failed polls in a row. Default 7. */
  numPollRequestRetries?: number;
  /** Poll after a successful initial fetch. Default false. */
  pollAfterSuccessfulInitialization?: boolean;
  /** Poll after a failed initial fetch. Default false. */
  pollAfterFailedInitialization?: boolean;
  /** `fetchFlagConfigurations()` rejects when the initial fetch fails. Default false. */
  throwOnFailedInitialization?: boolean;
  /** No initial fetch (only polling, if asked). Default false. */
  skipInitialPoll?: boolean;
}

/** Setup errors throw, naming the parameter. */
export function checkRequestParameters(p: FlagConfigurationRequestParameters): void {
  if (typeof p !== 'object' || p === null) throw new TypeError('configurationRequestParameters must be an object with apiKey, sdkName and sdkVersion');
  for (const name of ['apiKey', 'sdkName', 'sdkVersion'] as const) {
    if (typeof p[name] !== 'string' || p[name] === '') throw new TypeError(`configurationRequestParameters.${name} must be a non-empty string`);
  }
  for (const name of ['requestTimeoutMs', 'numInitialRequestRetries', 'numPollRequestRetries'] as const) {
    const v = p[name];
    if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v >= 0)) throw new RangeError(`configurationRequestParameters.${name} must be a non-negative number`);
  }
  // As Eppo's: a pollingIntervalMs of 0 or less is logged when fetching and the default used instead.
  if (p.pollingIntervalMs !== undefined && !(typeof p.pollingIntervalMs === 'number' && !Number.isNaN(p.pollingIntervalMs))) {
    throw new RangeError('configurationRequestParameters.pollingIntervalMs must be a number of milliseconds');
  }
  if (p.baseUrl !== undefined) configBaseUrl(p.apiKey, p.baseUrl);
}

type Stores = { flags: IConfigurationStore<unknown>; variations: IConfigurationStore<BanditVariation[]> | null; models: IConfigurationStore<unknown> | null };

/** What a fetched config gives each store (Eppo's hydration packet). */
interface Packet {
  entries: Record<string, unknown>;
  environment?: Environment;
  createdAt?: string;
  format?: string;
}

/** One `fetchFlagConfigurations()` call: its initial attempts and, when asked, its polling. */
export class StoreRequests {
  readonly #configUrl: string;
  readonly #banditsUrl: string;
  readonly #timeoutMs: number;
  readonly #intervalMs: number;
  readonly #p: FlagConfigurationRequestParameters;
  readonly #logger: Logger;
  readonly #stored: () => void;
  #stores: Stores;
  /** Model versions this fetcher stored (Eppo refetches models only when a referenced version is not among them). */
  #modelVersions: string[] = [];
  #stopped = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #pollFailures = 0;

  /** @param stored called after each fetch that stored a configuration. */
  constructor(p: FlagConfigurationRequestParameters, stores: Stores, logger: Logger, stored: () => void) {
    const base = configBaseUrl(p.apiKey, p.baseUrl);
    this.#configUrl = configUrl(base, p.apiKey, p.sdkName, p.sdkVersion);
    this.#banditsUrl = configUrl(base, p.apiKey, p.sdkName, p.sdkVersion, 'bandits');
    this.#timeoutMs = p.requestTimeoutMs ?? 5_000;
    let interval = p.pollingIntervalMs ?? 30_000;
    if (interval <= 0) {
      logger.error('pollingIntervalMs must be greater than 0. Using default');
      interval = 30_000;
    }
    this.#intervalMs = interval;
    this.#p = p;
    this.#stores = stores;
    this.#logger = logger;
    this.#stored = stored;
  }

  /** Store into these stores from now on (Eppo's `setFlagConfigurationStore` and kin while polling). */
  retarget(stores: Stores): void {
    this.#stores = stores;
  }

  /**
   * The initial attempts (`1 + numInitialRequestRetries`, 5–10 % of the interval apart), then polling when the
   * parameters ask for it.
   * @throws the last error, only with `throwOnFailedInitialization`.
   */
  async start(): Promise<void> {
    const p = this.#p;
    let attempts = p.skipInitialPoll ? 0 : 1 + (p.numInitialRequestRetries ?? 1);
    let ok = false;
    let failure: unknown = null;
    while (!ok && attempts > 0 && !this.#stopped) {
      try {
        await this.#poll();
        ok = true;
      } catch (err) {
        this.#logger.warn(`Initial configuration fetch failed: ${errorText(err)}`);
        if (--attempts > 0) await sleep(jitter(this.#intervalMs));
        else failure = err;
      }
    }
    const poll = ok ? p.pollAfterSuccessfulInitialization === true : p.pollAfterFailedInitialization === true;
    if (!ok && !poll && failure !== null) {
      this.#logger.error('Initial configuration fetch failed; not polling (pollAfterFailedInitialization is false)');
      this.stop();
    }
    if (poll && !this.#stopped) this.#schedule(this.#intervalMs);
    if (failure !== null && p.throwOnFailedInitialization === true) throw failure;
  }

  /** No further polls. */
  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #schedule(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#tick(), ms);
    // A poller alone must not keep a script alive.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  async #tick(): Promise<void> {
    this.#timer = null;
    if (this.#stopped) return;
    let next = this.#intervalMs;
    try {
      await this.#poll();
      this.#pollFailures = 0;
    } catch (err) {
      const tries = 1 + (this.#p.numPollRequestRetries ?? 7);
      if (++this.#pollFailures >= tries) {
        this.#logger.error(`Configuration polling stopped after ${this.#pollFailures} failed polls in a row: ${errorText(err)}`);
        this.stop();
        return;
      }
      // Eppo's backoff: 2^failures intervals, plus jitter.
      next = 2 ** this.#pollFailures * this.#intervalMs + jitter(this.#intervalMs);
      this.#logger.warn(`Configuration poll failed: ${errorText(err)}; next attempt in ${next} ms`);
    }
    this.#schedule(next);
  }

  /** One poll: fetch and store when the flag store says it is expired (Eppo's memory store always is). */
  async #poll(): Promise<void> {
    if (await this.#stores.flags.isExpired()) await this.#fetchAndStore();
  }

  /** Eppo's fetch-and-store: nothing is stored unless the config (and the models it needs) arrived whole. */
  async #fetchAndStore(): Promise<void> {
    const response = await this.#get(this.#configUrl, 'Config');
    if (response === null || typeof response !== 'object' || (response as { flags?: unknown }).flags == null) return;
    // The envelope is checked before anything is stored: an unusable response keeps the stores as they are.
    parseConfig(response);
    const doc = response as { flags: Record<string, unknown>; environment?: Environment; createdAt?: string; format?: string; banditReferences?: unknown };
    const meta = { environment: doc.environment, createdAt: doc.createdAt, format: doc.format };
    const flagsPacket: Packet = { entries: doc.flags, ...meta };
    const { variations, models } = this.#stores;
    const refs = (doc.banditReferences ?? {}) as Record<string, { modelVersion?: unknown; flagVariations?: unknown }>;
    let variationsPacket: Packet | null = null;
    let modelsPacket: Packet | null = null;
    if (Object.keys(refs).length > 0 && variations !== null && models !== null) {
      variationsPacket = { entries: byFlagKey(refs), ...meta };
      const versions = Object.values(refs).map((r) => r?.modelVersion);
      if (!versions.every((v) => typeof v === 'string' && this.#modelVersions.includes(v))) {
        const bandits = (await this.#get(this.#banditsUrl, 'Bandit parameters') as { bandits?: unknown } | null)?.bandits;
        if (bandits !== null && typeof bandits === 'object') {
          modelsPacket = { entries: bandits as Record<string, unknown>, ...meta };
          this.#modelVersions = Object.values(bandits).map((b) => (b as { modelVersion?: unknown })?.modelVersion).filter((v): v is string => typeof v === 'string');
        }
      }
    }
    await hydrate(this.#stores.flags, flagsPacket);
    await Promise.all([variationsPacket && hydrate(variations!, variationsPacket), modelsPacket && hydrate(models!, modelsPacket)]);
    this.#stored();
  }

  /** A parsed JSON response. @throws {Error} on any failure, in our own words (never the URL, which has the key). */
  async #get(url: string, what: string): Promise<unknown> {
    const outcome = await fetchConfig(url, { timeoutMs: this.#timeoutMs, etag: null, fetch: (u, init) => globalThis.fetch(u, init) });
    if (outcome.kind === 'error') throw new Error(`${what} fetch failed: ${outcome.message}`);
    if (outcome.kind === 'not-modified') throw new Error(`${what} fetch failed: HTTP 304`);
    try {
      return JSON.parse(outcome.text);
    } catch {
      throw new Error(`${what} fetch failed: the response is not JSON`);
    }
  }
}

/** Eppo's hydration: the entries, then — only when the store says it changed — the metadata, as received. */
async function hydrate(store: IConfigurationStore<unknown>, packet: Packet): Promise<void> {
  if (!(await store.setEntries(packet.entries))) return;
  store.setEnvironment(packet.environment as Environment);
  store.setConfigFetchedAt(new Date().toISOString());
  store.setConfigPublishedAt(packet.createdAt as string);
  store.setFormat(packet.format as string);
}

/** UFC `banditReferences` (by bandit key) → the variation store's entries (by flag key), as Eppo indexes them. */
function byFlagKey(refs: Record<string, { flagVariations?: unknown }>): Record<string, BanditVariation[]> {
  const out: Record<string, BanditVariation[]> = {};
  for (const ref of Object.values(refs)) {
    if (!Array.isArray(ref?.flagVariations)) continue;
    for (const v of ref.flagVariations as BanditVariation[]) {
      const flagKey = v?.flagKey;
      if (typeof flagKey !== 'string') continue;
      (Object.hasOwn(out, flagKey) ? out[flagKey] : (out[flagKey] = [])).push(v);
    }
  }
  return out;
}

/** Eppo's poll jitter: 5–10 % of the interval, at least 1 ms over 5 %. */
function jitter(intervalMs: number): number {
  const half = intervalMs * 0.05;
  return half + Math.max(1, Math.floor(Math.random() * half));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
