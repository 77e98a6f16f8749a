/**
 * Eppo's flag overrides: an override store consulted before the config (`setOverrideStore`, `withOverrides`),
 * what an overridden evaluation reports (allocation `override-<variationKey>`, MATCH "Flag override applied", no
 * exposure event), and the `x-eppo-overrides` payload of Eppo's browser extension (`parseOverrides`).
 * @module
 */
import type { VariationType } from '../errors.ts';
import type { CompiledConfig } from '../config/compile.ts';
import type { FlagEvaluationDetails } from '../eval/details.ts';
import { errorText, type Sandbox } from '../events/sandbox.ts';
import type { ClientState } from './state.ts';

/** Eppo's `Variation`: what an override store holds per flag key. */
export interface Variation {
  /** The variation key (reported in the details as `variationKey`, and in the allocation key `override-<key>`). */
  key: string;
  /** The value; for JSON flags JSON text or an object. */
  value: string | number | boolean | object;
}

/**
 * Eppo's `ISyncStore<T>`, the shape `setOverrideStore` takes. saltshard reads `get` on every evaluation and
 * `entries` for `getOverrideVariationKeys`; the other members are Eppo's and optional here.
 */
export interface ISyncStore<T> {
  get(key: string): T | null;
  entries(): Record<string, T>;
  getKeys?(): string[];
  isInitialized?(): boolean;
  setEntries?(entries: Record<string, T>): void;
}

/** An in-memory override store (Eppo's `MemoryOnlyConfigurationStore` for overrides). */
export class MemoryOverrideStore implements ISyncStore<Variation> {
  #entries = new Map<string, Variation>();
  #initialized = false;

  constructor(entries?: Record<string, Variation>) {
    if (entries !== undefined) this.setEntries(entries);
  }

  get(key: string): Variation | null {
    return this.#entries.get(key) ?? null;
  }

  entries(): Record<string, Variation> {
    return Object.fromEntries(this.#entries);
  }

  getKeys(): string[] {
    return [...this.#entries.keys()];
  }

  isInitialized(): boolean {
    return this.#initialized;
  }

  /** Replace every entry (a copy of `entries` is kept). */
  setEntries(entries: Record<string, Variation>): void {
    this.#entries = new Map(Object.entries(entries));
    this.#initialized = true;
  }
}

/** An override that applies to one evaluation: the variation and its details. */
export interface OverrideMatch {
  variation: Variation;
  details: FlagEvaluationDetails;
  /** The value a getter returns, once typed for it. */
  value?: unknown;
}

/** The override store of one client, read through the client's sandbox. */
export class Overrides {
  readonly store: ISyncStore<Variation>;
  readonly #sandbox: Sandbox;
  readonly #warned = new Set<string>();

  constructor(store: ISyncStore<Variation>, sandbox: Sandbox) {
    if (store === null || typeof store !== 'object' || typeof store.get !== 'function') {
      throw new TypeError('setOverrideStore() needs a store with get(flagKey) and entries() (Eppo\'s ISyncStore<Variation>)');
    }
    this.store = store;
    this.#sandbox = sandbox;
  }

  /** The override for `flagKey` with Eppo's details, or null when the store has none (or a malformed one). */
  match(state: ClientState, flagKey: string): OverrideMatch | null {
    const v = this.#sandbox.value('Override store get', () => this.store.get(flagKey), null);
    if (v === null || v === undefined) return null;
    if (typeof v !== 'object' || typeof v.key !== 'string' || !('value' in v)) {
      if (this.#warned.size < 1000 && !this.#warned.has(flagKey)) {
        this.#warned.add(flagKey);
        state.logger.warn(`Override for flag ${flagKey} ignored: expected { key: string, value }`);
      }
      return null;
    }
    return { variation: v, details: overrideDetails(state, flagKey, v) };
  }

  /** Eppo's `getOverrideVariationKeys`: flag key → overriding variation key. */
  variationKeys(): Record<string, string> {
    const entries = this.#sandbox.value('Override store entries', () => this.store.entries(), {});
    const out: Record<string, string> = {};
    if (entries === null || typeof entries !== 'object') return out;
    for (const [flagKey, v] of Object.entries(entries)) if (v !== null && typeof v === 'object' && typeof v.key === 'string') out[flagKey] = v.key;
    return out;
  }
}

/**
 * Eppo's details of an overridden evaluation: MATCH "Flag override applied", the override as the matched allocation
 * at position 1, the flag's other allocations UNEVALUATED (none for a flag the config does not have), no rule,
 * and the variation value as stored (JSON text is not parsed).
 */
function overrideDetails(state: ClientState, flagKey: string, v: Variation): FlagEvaluationDetails {
  const config: CompiledConfig | null = state.config;
  let allocations: readonly { key: string }[] = [];
  if (config !== null) {
    try {
      const flag = state.entry(config, flagKey);
      if (flag?.kind === 'flag') allocations = flag.allocations;
    } catch {
      // A key that cannot be hashed has no allocations to list.
    }
  }
  return {
    environmentName: config?.environmentName ?? '',
    flagEvaluationCode: 'MATCH',
    flagEvaluationDescription: 'Flag override applied',
    variationKey: v.key,
    variationValue: v.value,
    banditKey: null,
    banditAction: null,
    configFetchedAt: config?.fetchedAt ?? '',
    configPublishedAt: config?.createdAt ?? '',
    matchedRule: null,
    matchedAllocation: { key: `override-${v.key}`, allocationEvaluationCode: 'MATCH', orderPosition: 1 },
    unmatchedAllocations: [],
    unevaluatedAllocations: allocations.slice(1).map((a, i) => ({ key: a.key, allocationEvaluationCode: 'UNEVALUATED', orderPosition: i + 2 })),
  };
}

/**
 * The value a getter of `type` returns for an override, as Eppo's (JSON text is parsed, objects are copied, a null
 * value gives the default), or `undefined` when the value does not have the getter's type (saltshard then returns the
 * default with TYPE_MISMATCH, where Eppo would return the mistyped value). Throws when JSON text does not parse.
 */
export function overrideValue(value: unknown, type: VariationType): unknown {
  if (value === null || value === undefined) return null;
  switch (type) {
    case 'STRING':
      return typeof value === 'string' ? value : undefined;
    case 'BOOLEAN':
      return typeof value === 'boolean' ? value : undefined;
    case 'INTEGER':
      return Number.isInteger(value) ? value : undefined;
    case 'NUMERIC':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    case 'JSON':
      if (typeof value === 'string') return JSON.parse(value);
      return typeof value === 'object' ? JSON.parse(JSON.stringify(value)) : undefined;
  }
}

/** The details of an override whose value does not fit the getter's type. */
export function overrideTypeMismatch(m: OverrideMatch, flagKey: string, type: VariationType): FlagEvaluationDetails {
  return {
    ...m.details,
    flagEvaluationCode: 'TYPE_MISMATCH',
    flagEvaluationDescription: `Override value does not have the correct type: expected ${type} for flag ${flagKey}`,
    variationKey: null,
    variationValue: null,
    matchedAllocation: null,
    unevaluatedAllocations: [],
  };
}

/** What `parseOverrides` resolves to: flag key → variation. */
export type OverridesPayload = Record<string, Variation>;

const VALIDATION_URL = 'https://eppo.cloud/api/flag-overrides/v1/validate-key';
/** Eppo caches a validated key for this long (its constant is named five minutes but holds five hours). */
const KEY_TTL_MS = 5 * 3600 * 1000;
const KEY_CACHE_SIZE = 100;
const VALIDATION_TIMEOUT_MS = 10_000;

/**
 * Eppo's `parseOverrides`: the `x-eppo-overrides` header sent by Eppo's browser extension, validated as Eppo does —
 * JSON with a string `browserExtensionKey` and an object `overrides` — and the key checked with Eppo's validation
 * endpoint (a valid key is remembered, as Eppo, for 5 hours; at most 100 keys).
 */
export class OverridePayloadParser {
  readonly #validKeys = new Map<string, number>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  async parse(payload: string | undefined): Promise<OverridesPayload | undefined> {
    if (!payload) return undefined;
    let parsed: { browserExtensionKey: string; overrides: OverridesPayload };
    try {
      parsed = JSON.parse(payload);
      checkPayload(parsed);
    } catch (err) {
      throw new Error(`Unable to parse overridePayload: ${(err as Error)?.message ?? 'unknown error'}`);
    }
    await this.#validateKey(parsed.browserExtensionKey);
    return parsed.overrides;
  }

  async #validateKey(key: string): Promise<void> {
    const until = this.#validKeys.get(key);
    if (until !== undefined && until > this.#now()) return;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), VALIDATION_TIMEOUT_MS);
    let response: Response;
    try {
      response = await fetch(VALIDATION_URL, {
        method: 'POST',
        body: JSON.stringify({ key }),
        headers: { 'Content-Type': 'application/json' },
        signal: controller.signal,
      });
      await response.body?.cancel();
    } catch (err) {
      throw new Error(`Unable to authorize key: ${controller.signal.aborted ? `no answer within ${VALIDATION_TIMEOUT_MS} ms` : errorText(err)}`);
    } finally {
      clearTimeout(timer);
    }
    if (response.status !== 200) throw new Error(`Unable to authorize key: ${response.statusText}`);
    this.#validKeys.delete(key);
    if (this.#validKeys.size >= KEY_CACHE_SIZE) this.#validKeys.delete(this.#validKeys.keys().next().value as string);
    this.#validKeys.set(key, this.#now() + KEY_TTL_MS);
  }
}

/** Eppo's checks of the payload, in its order and words. */
function checkPayload(parsed: unknown): void {
  if (typeof parsed !== 'object') throw new Error(`Expected object, but received ${typeof parsed}`);
  if (parsed === null) throw new Error('Expected object, but received null');
  const p = parsed as Record<string, unknown>;
  if (!Object.hasOwn(p, 'browserExtensionKey')) throw new Error(`Missing required field: 'browserExtensionKey'`);
  if (!Object.hasOwn(p, 'overrides')) throw new Error(`Missing required field: 'overrides'`);
  if (typeof p.browserExtensionKey !== 'string') {
    throw new Error(`Invalid type for 'browserExtensionKey'. Expected string, but received ${typeof p.browserExtensionKey}`);
  }
  if (typeof p.overrides !== 'object') throw new Error(`Invalid type for 'overrides'. Expected object, but received ${typeof p.overrides}.`);
}
