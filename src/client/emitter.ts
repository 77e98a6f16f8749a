/**
 * Client events and their listeners; listeners run in the client's sandbox, so one that throws or rejects never
 * reaches the emitter or the process.
 * @module
 */
import { md5Hex } from '../config/encoding.ts';
import type { Sandbox } from '../events/sandbox.ts';

/**
 * Events a client emits; see {@link SaltshardClient.on}. `change:<flagKey>` fires when that flag's definition
 * changed (with the flag key as detail), alongside `configurationChanged`.
 */
export type ClientEvent = 'configurationChanged' | 'syncFailed' | 'syncRecovered' | `change:${string}`;

const FLAG_PREFIX = 'change:';

/** Listener sets per event. */
export class ClientEmitter {
  readonly #listeners = new Map<ClientEvent, Set<(detail: unknown) => void>>();
  readonly #sandbox: Sandbox;
  /** Flag keys with `change:<flagKey>` listeners. */
  readonly #flagKeys = new Set<string>();

  constructor(sandbox: Sandbox) {
    this.#sandbox = sandbox;
  }

  /** Whether anyone listens for `event` (so the detail need not be computed otherwise); per-flag listeners count for `configurationChanged`. */
  listened(event: ClientEvent): boolean {
    if (event === 'configurationChanged' && this.#flagKeys.size > 0) return true;
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  on(event: ClientEvent, listener: (detail: unknown) => void): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(event, set);
      if (event.startsWith(FLAG_PREFIX)) this.#flagKeys.add(event.slice(FLAG_PREFIX.length));
    }
    set.add(listener);
    const listeners = set;
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0 && this.#listeners.get(event) === listeners) {
        this.#listeners.delete(event);
        if (event.startsWith(FLAG_PREFIX)) this.#flagKeys.delete(event.slice(FLAG_PREFIX.length));
      }
    };
  }

  emit(event: ClientEvent, detail: unknown): void {
    this.#dispatch(event, event.startsWith(FLAG_PREFIX) ? 'A change:<flagKey>' : `A ${event}`, detail);
    if (event !== 'configurationChanged' || this.#flagKeys.size === 0 || !Array.isArray(detail)) return;
    // Changed keys are md5 hashes in an obfuscated config: a listener's flag key matches either form.
    const changed = new Set(detail as string[]);
    for (const flagKey of [...this.#flagKeys]) {
      if (changed.has(flagKey) || changed.has(md5Hex(flagKey))) this.#dispatch(`change:${flagKey}`, 'A change:<flagKey>', flagKey);
    }
  }

  #dispatch(event: ClientEvent, label: string, detail: unknown): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const listener of [...set]) this.#sandbox.run(`${label} listener`, () => listener(detail));
  }
}
