/**
 * Client events and their listeners; a listener that throws never reaches the emitter.
 * @module
 */
import type { Logger } from '../events/logger.ts';

/** Events a client emits; see {@link SaltshardClient.on}. */
export type ClientEvent = 'configurationChanged' | 'syncFailed' | 'syncRecovered';

/** Listener sets per event. */
export class ClientEmitter {
  readonly #listeners = new Map<ClientEvent, Set<(detail: unknown) => void>>();
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Whether anyone listens for `event` (so the detail need not be computed otherwise). */
  listened(event: ClientEvent): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  on(event: ClientEvent, listener: (detail: unknown) => void): () => void {
    const set = this.#listeners.get(event) ?? new Set();
    this.#listeners.set(event, set);
    set.add(listener);
    return () => void set.delete(listener);
  }

  emit(event: ClientEvent, detail: unknown): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        listener(detail);
      } catch (err) {
        this.#logger.error(`A ${event} listener threw`, (err as Error)?.message);
      }
    }
  }
}
