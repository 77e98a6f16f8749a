/**
 * Client events and their listeners; listeners run in the client's sandbox, so one that throws or rejects never
 * reaches the emitter or the process.
 * @module
 */
import type { Sandbox } from '../events/sandbox.ts';

/** Events a client emits; see {@link SaltshardClient.on}. */
export type ClientEvent = 'configurationChanged' | 'syncFailed' | 'syncRecovered';

/** Listener sets per event. */
export class ClientEmitter {
  readonly #listeners = new Map<ClientEvent, Set<(detail: unknown) => void>>();
  readonly #sandbox: Sandbox;

  constructor(sandbox: Sandbox) {
    this.#sandbox = sandbox;
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
    for (const listener of this.#listeners.get(event) ?? []) this.#sandbox.run(`A ${event} listener`, () => listener(detail));
  }
}
