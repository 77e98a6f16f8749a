/**
 * A live client fed by a saltshard relay (`saltshard serve`): `configSource: { relay, mode }`.
 * - `stream`: one Server-Sent Events connection (`/v1/config/stream`); a change is applied as soon as it arrives.
 * - `longpoll`: held requests (`/v1/config/poll`) for runtimes without streaming response bodies.
 * - `poll`: plain polling of the relay's Eppo-compatible endpoint only.
 * Whatever the mode, the client also polls the relay's Eppo-compatible endpoint (`/api/flag-config/v1/config`) at
 * `pollingIntervalMs`: that is the fallback while the stream is down (polls are skipped while it is connected). A
 * config older than the one in force (by its `createdAt`) is never applied, whichever path delivers it.
 * @module
 */
import type { CompiledConfig } from '../config/compile.ts';
import { compileConfig } from '../config/compile.ts';
import type { Logger } from '../events/logger.ts';
import type { FetchLike } from './fetcher.ts';
import type { ConfigTarget } from './sync.ts';

/** Where a live client gets its config from, instead of Eppo's CDN. */
export interface ConfigSourceOption {
  /** Base URL of a `saltshard serve` relay, e.g. `http://flags.internal:8016`. */
  relay: string | URL;
  /** Default `stream`. */
  mode?: 'stream' | 'longpoll' | 'poll';
}

/** Counters of the push connection. */
export interface PushStatus {
  /** The push mode in use. */
  mode: 'stream' | 'longpoll' | 'poll';
  /** True while a stream is open (or a long-poll is being answered). */
  connected: boolean;
  /** Configs received by push. */
  received: number;
  /** Configs received by push that were applied. */
  applied: number;
  /** Configs received by push refused as older than the one in force. */
  refusedOlder: number;
  /** Connections (re)opened. */
  connects: number;
  /** Failures of the connection. */
  failures: number;
  /** Id of the last applied SSE event (sent back as `Last-Event-ID` on reconnect), or null. */
  lastEventId: string | null;
  /** Message of the last connection failure, or null. */
  lastError: string | null;
}

/** Settings of {@link ConfigPush}. */
export interface PushSettings {
  relay: string;
  mode: 'stream' | 'longpoll' | 'poll';
  /** Sent as `apiKey` (the relay's token, when it has one). */
  apiKey: string;
  fetch: FetchLike;
  logger: Logger;
  /** A stream silent for this long is reopened (the relay sends a comment every 15 s). Default 45 000. */
  idleTimeoutMs?: number;
  /** Told when the connection breaks, so the caller can poll at once. */
  onBreak?: () => void;
}

/** The relay's base URL for `init`'s polling: its Eppo-compatible API lives under /api. */
export function relayBaseUrl(relay: string | URL): string {
  let url: URL;
  try {
    url = new URL(String(relay));
  } catch {
    throw new TypeError('configSource.relay must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError('configSource.relay must be an http(s) URL');
  return url.href.replace(/\/+$/, '');
}

/**
 * Guards a target so that a config older than the one in force (by `createdAt`, Eppo's publish time) is never
 * applied: a poll answered just before a change must not undo the change a stream delivered just after.
 * @returns the guarded target and a counter of refusals.
 */
export function newerOnly(target: ConfigTarget & { getConfiguration(): CompiledConfig | null }): ConfigTarget & { refused(): number } {
  let refused = 0;
  return {
    setConfiguration(config: unknown) {
      const next = config as CompiledConfig;
      const current = target.getConfiguration();
      if (current !== null && typeof next?.createdAt === 'string' && isOlder(next.createdAt, current.createdAt)) {
        refused++;
        return;
      }
      target.setConfiguration(config);
    },
    isInitialized: () => target.isInitialized(),
    needsBanditModels: () => target.needsBanditModels(),
    setBanditConfiguration: (models: unknown) => target.setBanditConfiguration(models),
    emit: (event, detail) => target.emit(event, detail),
    refused: () => refused,
  };
}

function isOlder(next: string, current: string): boolean {
  const a = Date.parse(next);
  const b = Date.parse(current);
  return Number.isFinite(a) && Number.isFinite(b) && a < b;
}

/** Receives configs pushed by a relay and applies them through a guarded target. */
export class ConfigPush {
  readonly #s: PushSettings;
  readonly #target: ConfigTarget & { refused(): number };
  readonly #status: PushStatus;
  #stopped = false;
  #abort = new AbortController();
  #etag: string | null = null;

  constructor(target: ConfigTarget & { refused(): number }, settings: PushSettings) {
    this.#target = target;
    this.#s = settings;
    this.#status = { mode: settings.mode, connected: false, received: 0, applied: 0, refusedOlder: 0, connects: 0, failures: 0, lastEventId: null, lastError: null };
  }

  /** A copy of the counters. */
  status(): PushStatus {
    return { ...this.#status, refusedOlder: this.#target.refused() };
  }

  /** True while the push connection is healthy (polls may be skipped). */
  get connected(): boolean {
    return this.#status.connected;
  }

  /** Run until {@link stop}. */
  start(): void {
    if (this.#s.mode === 'poll') return;
    void this.#loop();
  }

  stop(): void {
    this.#stopped = true;
    this.#status.connected = false;
    this.#abort.abort();
  }

  async #loop(): Promise<void> {
    let failures = 0;
    while (!this.#stopped) {
      const opened = Date.now();
      try {
        if (this.#s.mode === 'stream') await this.#stream();
        else await this.#longPoll();
        failures = 0;
      } catch (err) {
        if (this.#stopped) return;
        this.#status.failures++;
        this.#status.lastError = err instanceof Error ? err.message : String(err);
        // A connection that lived a while is not a repeated failure: reconnect quickly.
        failures = Date.now() - opened > 10_000 ? 1 : failures + 1;
      }
      const wasConnected = this.#status.connected;
      this.#status.connected = false;
      if (this.#stopped) return;
      if (wasConnected || failures === 1) this.#callBreak();
      // 250 ms, doubling to 10 s, each drawn in [½, 1] of it.
      const delay = failures === 0 ? 0 : Math.min(10_000, 250 * 2 ** (failures - 1)) * (0.5 + Math.random() / 2);
      if (delay > 0) await sleep(delay, this.#abort.signal);
    }
  }

  #callBreak(): void {
    try {
      this.#s.onBreak?.();
    } catch {
      // Internal hook; never fatal.
    }
  }

  #url(path: string, params: Record<string, string>): string {
    const url = new URL(`${this.#s.relay}${path}`);
    url.searchParams.set('apiKey', this.#s.apiKey);
    for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
    return url.href;
  }

  async #stream(): Promise<void> {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (this.#status.lastEventId !== null) headers['last-event-id'] = this.#status.lastEventId;
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    this.#abort.signal.addEventListener('abort', stop);
    const idleMs = this.#s.idleTimeoutMs ?? 45_000;
    let idle: ReturnType<typeof setTimeout> | null = null;
    const touch = () => {
      if (idle !== null) clearTimeout(idle);
      idle = setTimeout(() => attempt.abort(), idleMs);
      (idle as { unref?: () => void }).unref?.();
    };
    try {
      touch();
      const res = await this.#s.fetch(this.#url('/v1/config/stream', {}), { headers, signal: attempt.signal } as RequestInit);
      if (res.status !== 200 || res.body === null) {
        await res.body?.cancel().catch(() => {});
        throw new Error(`stream answered HTTP ${res.status}`);
      }
      this.#status.connects++;
      this.#status.connected = true;
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        touch();
        // Events end with a blank line; a partial event stays in the buffer, and only the new text is searched
        // (a config of megabytes arrives in many chunks).
        let from = Math.max(0, buffer.length - 3);
        buffer += value;
        for (let end = blankLine(buffer, from); end !== null; end = blankLine(buffer, 0)) {
          this.#event(buffer.slice(0, end[0]));
          buffer = buffer.slice(end[1]);
          from = 0;
        }
      }
    } finally {
      if (idle !== null) clearTimeout(idle);
      this.#abort.signal.removeEventListener('abort', stop);
      attempt.abort();
    }
  }

  /** One SSE event block: `id`, `event` and `data` fields (data lines joined with newlines); comments ignored. */
  #event(block: string): void {
    let id: string | null = null;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split(/\r\n|\r|\n/)) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (event !== 'config' || data.length === 0) return;
    if (this.#apply(data.join('\n')) && id !== null) this.#status.lastEventId = id;
  }

  async #longPoll(): Promise<void> {
    const headers: Record<string, string> = {};
    if (this.#etag !== null) headers['if-none-match'] = this.#etag;
    const res = await this.#s.fetch(this.#url('/v1/config/poll', { waitMs: '25000' }), { headers, signal: this.#abort.signal } as RequestInit);
    if (res.status === 304) {
      this.#status.connected = true;
      await res.body?.cancel().catch(() => {});
      return;
    }
    if (res.status !== 200) {
      await res.body?.cancel().catch(() => {});
      throw new Error(`long-poll answered HTTP ${res.status}`);
    }
    const text = await res.text();
    this.#status.connects++;
    this.#status.connected = true;
    if (this.#apply(text)) this.#etag = res.headers.get('etag');
  }

  /** Compile and apply a pushed config; an invalid one keeps the config in force. */
  #apply(text: string): boolean {
    this.#status.received++;
    let config: CompiledConfig;
    try {
      // Clients of one process share the compiled snapshot of a pushed text (it is immutable): a fleet of clients
      // in one process compiles each change once.
      if (lastPushed?.text === text) config = lastPushed.config;
      else {
        config = compileConfig(text);
        lastPushed = { text, config };
      }
    } catch (err) {
      this.#s.logger.warn(`Pushed config rejected: ${(err as Error).message}; keeping the config in force`);
      return false;
    }
    const before = this.#target.refused();
    this.#target.setConfiguration(config);
    if (this.#target.refused() === before) this.#status.applied++;
    return true;
  }
}

let lastPushed: { text: string; config: CompiledConfig } | null = null;

/** [end of the first event block, start of the next] at or after `from`, or null. */
function blankLine(text: string, from: number): [number, number] | null {
  const lf = text.indexOf('\n\n', from);
  const crlf = text.indexOf('\r\n\r\n', from);
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return [crlf, crlf + 4];
  return lf === -1 ? null : [lf, lf + 2];
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}
