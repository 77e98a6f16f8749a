/**
 * What every part of a client shares: the config in force, the clock, the shard kernel, the SDK's logger,
 * and the flag-key lookup (md5-hashed for obfuscated configs).
 * @module
 */
import type { BrokenFlag, CompiledConfig, CompiledFlag } from '../config/compile.ts';
import { md5Hex } from '../config/encoding.ts';
import type { Logger } from '../events/logger.ts';
import type { ShardKernel } from '../wasm/kernel.ts';
import { Counters } from './metrics.ts';

/** Mutable shared state of one client; only the facade replaces `config`. */
export class ClientState {
  config: CompiledConfig | null = null;
  readonly logger: Logger;
  readonly now: () => number;
  readonly kernel: ShardKernel;
  /** Per-process counters (client.metrics()). */
  readonly counters = new Counters();
  readonly #hashedKeys = new Map<string, string>();

  constructor(logger: Logger, now: () => number, kernel: ShardKernel) {
    this.logger = logger;
    this.now = now;
    this.kernel = kernel;
  }

  /**
   * From now on `config` reads `current()` (a client whose flags live in Eppo configuration stores: client/stores.ts),
   * and `replace` is refused. Only this state changes: a client without stores keeps a plain field, at no cost.
   */
  follow(current: () => CompiledConfig | null): void {
    Object.defineProperty(this, 'config', {
      get: current,
      set: () => {
        throw new TypeError("this client's flags come from its flagConfigurationStore: write them with store.setEntries(…) or fetchFlagConfigurations()");
      },
      configurable: true,
    });
  }

  /** Put a new snapshot in force (hashed keys of the old one are dropped). */
  replace(config: CompiledConfig): void {
    this.config = config;
    this.#hashedKeys.clear();
  }

  /** The config's entry for a requested key (looked up by md5 in obfuscated configs; throws like Eppo on a lone surrogate). */
  entry(config: CompiledConfig, flagKey: string): CompiledFlag | BrokenFlag | undefined {
    return config.flags.get(config.obfuscated ? this.#hashKey(flagKey) : flagKey);
  }

  #hashKey(flagKey: string): string {
    let h = this.#hashedKeys.get(flagKey);
    if (h === undefined) {
      h = md5Hex(flagKey);
      if (this.#hashedKeys.size > 10_000) this.#hashedKeys.clear();
      this.#hashedKeys.set(flagKey, h);
    }
    return h;
  }
}
