/**
 * The store classes of js-sdk-common that an application passes to `new EppoClient(…)`: `MemoryOnlyConfigurationStore`
 * (in memory), `HybridConfigurationStore` (a synchronous serving store in front of an optional persistent one) and
 * `MemoryStore` (a synchronous serving store). Any object with `IConfigurationStore`'s methods works as well.
 * @module
 */
import type { ISyncStore } from './overrides.ts';
import type { Environment, IConfigurationStore } from './stores.ts';

/** Eppo's `IAsyncStore<T>`: a persistent store behind a {@link HybridConfigurationStore} (e.g. a file, IndexedDB). */
export interface IAsyncStore<T> {
  /** True once the store holds entries from a fetch. */
  isInitialized(): boolean;
  /** Whether the stored entries should be refreshed. */
  isExpired(): Promise<boolean>;
  /** Every stored entry, by key. */
  entries(): Promise<Record<string, T>>;
  /** Replace every entry. */
  setEntries(entries: Record<string, T>): Promise<void>;
}

/** A synchronous store with every member of Eppo's `ISyncStore<T>` (a serving store). */
export type SyncStore<T> = Required<ISyncStore<T>>;

/** Eppo's `MemoryStore<T>`: a synchronous in-memory store (the serving store of the other two). */
export class MemoryStore<T> implements SyncStore<T> {
  #entries: Record<string, T> = {};
  #initialized = false;

  /** The entry for `key`, or null. */
  get(key: string): T | null {
    return Object.hasOwn(this.#entries, key) ? this.#entries[key] : null;
  }
  /** Every entry, by key (the same object until the next `setEntries`). */
  entries(): Record<string, T> {
    return this.#entries;
  }
  /** The keys of every entry. */
  getKeys(): string[] {
    return Object.keys(this.#entries);
  }
  /** True once entries were set. */
  isInitialized(): boolean {
    return this.#initialized;
  }
  /** Replace every entry with a copy of `entries`. */
  setEntries(entries: Record<string, T>): void {
    this.#entries = { ...entries };
    this.#initialized = true;
  }
}

/** The metadata every configuration store keeps beside its entries. */
abstract class StoreMetadata {
  #environment: Environment | null = null;
  #fetchedAt: string | null = null;
  #publishedAt: string | null = null;
  #format: string | null = null;
  /** The salt of a precomputed configuration. */
  salt?: string;

  /** The environment, or null. */
  getEnvironment(): Environment | null {
    return this.#environment;
  }
  /** Set the environment. */
  setEnvironment(environment: Environment): void {
    this.#environment = environment;
  }
  /** When the configuration was fetched, or null. */
  getConfigFetchedAt(): string | null {
    return this.#fetchedAt;
  }
  /** Set when the configuration was fetched. */
  setConfigFetchedAt(configFetchedAt: string): void {
    this.#fetchedAt = configFetchedAt;
  }
  /** When the configuration was published, or null. */
  getConfigPublishedAt(): string | null {
    return this.#publishedAt;
  }
  /** Set when the configuration was published. */
  setConfigPublishedAt(configPublishedAt: string): void {
    this.#publishedAt = configPublishedAt;
  }
  /** The format, or null. */
  getFormat(): string | null {
    return this.#format;
  }
  /** Set the format. */
  setFormat(format: string): void {
    this.#format = format;
  }
}

/** An in-memory configuration store (Eppo's `MemoryOnlyConfigurationStore`): always expired, so every fetch stores. */
export class MemoryOnlyConfigurationStore<T> extends StoreMetadata implements IConfigurationStore<T> {
  readonly #serving = new MemoryStore<T>();
  #initialized = false;

  /** Marks the store initialized (there is nothing to load). */
  init(): Promise<void> {
    this.#initialized = true;
    return Promise.resolve();
  }
  /** The entry for `key`, or null. */
  get(key: string): T | null {
    return this.#serving.get(key);
  }
  /** Every entry, by key (the same object until the next `setEntries`). */
  entries(): Record<string, T> {
    return this.#serving.entries();
  }
  /** The keys of every entry. */
  getKeys(): string[] {
    return this.#serving.getKeys();
  }
  /** True once `init` or `setEntries` ran. */
  isInitialized(): boolean {
    return this.#initialized;
  }
  /** Always true: a memory store is refreshed by every fetch. */
  isExpired(): Promise<boolean> {
    return Promise.resolve(true);
  }
  /** Replace every entry with a copy of `entries` (applied at once); resolves to true. */
  setEntries(entries: Record<string, T>): Promise<boolean> {
    this.#serving.setEntries(entries);
    this.#initialized = true;
    return Promise.resolve(true);
  }
}

/**
 * Eppo's `HybridConfigurationStore`: evaluations read a synchronous serving store; `setEntries` writes the persistent
 * store (when there is one) first, then the serving store; `init()` loads the persistent entries into the serving
 * store (e.g. the last configuration from a previous run); expired when the persistent store says so (or has none).
 */
export class HybridConfigurationStore<T> extends StoreMetadata implements IConfigurationStore<T> {
  /** Where evaluations read. */
  protected readonly servingStore: SyncStore<T>;
  /** Where entries persist, or null. */
  protected readonly persistentStore: IAsyncStore<T> | null;

  /**
   * @param servingStore a synchronous store, e.g. `new MemoryStore()`.
   * @param persistentStore an asynchronous store, or null.
   */
  constructor(servingStore: SyncStore<T>, persistentStore: IAsyncStore<T> | null) {
    super();
    this.servingStore = servingStore;
    this.persistentStore = persistentStore;
  }
  /** Load the persistent store's entries into the serving store. */
  async init(): Promise<void> {
    if (this.persistentStore === null) return;
    this.servingStore.setEntries(await this.persistentStore.entries());
  }
  /** The serving store is initialized, and the persistent one when there is one. */
  isInitialized(): boolean {
    return this.servingStore.isInitialized() && (this.persistentStore?.isInitialized() ?? true);
  }
  /** As the persistent store says; true without one. */
  async isExpired(): Promise<boolean> {
    return (await this.persistentStore?.isExpired()) ?? true;
  }
  /** The serving store's entry for `key`, or null. */
  get(key: string): T | null {
    return this.servingStore.get(key);
  }
  /** The serving store's entries. */
  entries(): Record<string, T> {
    return this.servingStore.entries();
  }
  /** The serving store's keys. */
  getKeys(): string[] {
    return this.servingStore.getKeys();
  }
  /** Write the persistent store (awaited), then the serving store; resolves to true. */
  async setEntries(entries: Record<string, T>): Promise<boolean> {
    if (this.persistentStore !== null) await this.persistentStore.setEntries(entries);
    this.servingStore.setEntries(entries);
    return true;
  }
}
