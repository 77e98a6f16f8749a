/**
 * Config push from the relay: every client of `saltshard serve` learns of a new config as soon as the server has
 * it, whether the server polls Eppo (one upstream request per interval for all clients, with ETag) or watches a
 * file. Two transports, same payload (the UFC text the relay serves) and the same version id (its ETag):
 * - `GET /v1/config/stream`: Server-Sent Events. Each change is `id: <etag>`, `event: config`, `data: <UFC JSON>`;
 *   a reconnecting client sends `Last-Event-ID` (or `?lastEventId=`) and is sent the current config only when it
 *   differs; a comment line every `heartbeatMs` keeps proxies and idle timeouts from cutting the stream.
 * - `GET /v1/config/poll`: long-poll for runtimes without streaming bodies. With `If-None-Match: <etag>` (or
 *   `?etag=`) the request is held until the config changes (200 with the new ETag) or `waitMs` passes (304).
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Context, Hono } from 'hono';
import type { SaltshardClient } from '../client.ts';

/** One version of the config as the relay serves it. */
export interface FeedEntry {
  /** The UFC JSON text. */
  text: string;
  /** Strong ETag, quoted (the SSE id is the same value). */
  etag: string;
  /** Epoch ms at which the relay loaded it. */
  loadedAt: number;
}

/** Options of {@link ConfigFeed}. */
export interface FeedOptions {
  /** SSE comment interval. Default 15 000 ms (below Bun's 30 s idle timeout and common proxy timeouts). */
  heartbeatMs?: number;
  /** Longest long-poll wait; a client may ask for less with `waitMs`. Default 30 000 ms. */
  maxWaitMs?: number;
}

const encoder = new TextEncoder();

/** The relay's current config, its subscribers, and the change notifications. */
export class ConfigFeed {
  readonly #client: SaltshardClient;
  readonly #heartbeatMs: number;
  readonly #maxWaitMs: number;
  #entry: FeedEntry | null = null;
  readonly #streams = new Set<ReadableStreamDefaultController<Uint8Array>>();
  readonly #waiters = new Set<() => void>();
  readonly #unsubscribe: () => void;
  readonly #heartbeat: ReturnType<typeof setInterval>;
  #closed = false;
  /** Changes published, SSE messages written, and long-polls answered with a change. */
  readonly counters = { changes: 0, pushed: 0, longPollChanges: 0, longPollTimeouts: 0 };

  /** Follow the client's config changes and start the SSE heartbeat. */
  constructor(client: SaltshardClient, options: FeedOptions = {}) {
    this.#client = client;
    this.#heartbeatMs = options.heartbeatMs ?? 15_000;
    this.#maxWaitMs = options.maxWaitMs ?? 30_000;
    this.#refresh();
    this.#unsubscribe = client.on('configurationChanged', () => this.#refresh());
    this.#heartbeat = setInterval(() => this.#broadcast(encoder.encode(': ping\n\n')), this.#heartbeatMs);
    (this.#heartbeat as { unref?: () => void }).unref?.();
  }

  /** The config in force, or null before one is loaded. */
  current(): FeedEntry | null {
    return this.#entry;
  }

  /** Open SSE streams. */
  get subscribers(): number {
    return this.#streams.size;
  }

  /** End every stream and answer every held long-poll (at shutdown). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    clearInterval(this.#heartbeat);
    for (const c of this.#streams) {
      try {
        c.close();
      } catch {
        // Already closed by the client.
      }
    }
    this.#streams.clear();
    for (const wake of this.#waiters) wake();
    this.#waiters.clear();
  }

  /** An SSE response: the current config first (unless the client has it), then every change. */
  stream(lastEventId: string | null): Response {
    if (this.#closed) return unavailable();
    let self: ReadableStreamDefaultController<Uint8Array> | null = null;
    const body = new ReadableStream<Uint8Array>({
      start: (controller) => {
        self = controller;
        this.#streams.add(controller);
        // The retry hint: reconnect after 500 ms (clients add their own backoff on repeated failures).
        controller.enqueue(encoder.encode('retry: 500\n\n'));
        const entry = this.#entry;
        if (entry !== null && entry.etag !== lastEventId) this.#send(controller, entry);
      },
      cancel: () => {
        if (self !== null) this.#streams.delete(self);
      },
    });
    return new Response(body, {
      headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' },
    });
  }

  /** A long-poll: 200 with the config when its ETag differs from `etag` (now or within `waitMs`), else 304. */
  async poll(etag: string | null, waitMs: number, signal: AbortSignal | undefined): Promise<Response> {
    const wait = Math.max(0, Math.min(this.#maxWaitMs, Number.isFinite(waitMs) ? waitMs : this.#maxWaitMs));
    if (this.#entry === null || this.#entry.etag === etag) {
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          this.#waiters.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, wait);
        this.#waiters.add(done);
        signal?.addEventListener('abort', done);
        if (this.#closed) done();
      });
    }
    const entry = this.#entry;
    if (entry === null) return unavailable();
    const headers = { etag: entry.etag, 'cache-control': 'no-cache' };
    if (entry.etag === etag) {
      this.counters.longPollTimeouts++;
      return new Response(null, { status: 304, headers });
    }
    this.counters.longPollChanges++;
    return new Response(entry.text, { status: 200, headers: { ...headers, 'content-type': 'application/json; charset=utf-8' } });
  }

  #refresh(): void {
    const text = this.#client.getFlagsConfiguration();
    if (text === null) return;
    const etag = `"${bytesToHex(sha256(encoder.encode(text))).slice(0, 32)}"`;
    if (this.#entry?.etag === etag) return;
    const entry = { text, etag, loadedAt: Date.now() };
    this.#entry = entry;
    this.counters.changes++;
    for (const c of this.#streams) this.#send(c, entry);
    for (const wake of [...this.#waiters]) wake();
  }

  #send(controller: ReadableStreamDefaultController<Uint8Array>, entry: FeedEntry): void {
    // SSE data cannot hold a newline: each line of the text becomes its own data field (the client joins them).
    const data = entry.text.split(/\r\n|\r|\n/).map((line) => `data: ${line}`).join('\n');
    this.#write(controller, encoder.encode(`id: ${entry.etag}\nevent: config\n${data}\n\n`));
    this.counters.pushed++;
  }

  #broadcast(bytes: Uint8Array): void {
    for (const c of this.#streams) this.#write(c, bytes);
  }

  #write(controller: ReadableStreamDefaultController<Uint8Array>, bytes: Uint8Array): void {
    try {
      controller.enqueue(bytes);
    } catch {
      // The client went away: forget the stream.
      this.#streams.delete(controller);
    }
  }
}

function unavailable(): Response {
  return new Response(JSON.stringify({ errorCode: 'PROVIDER_NOT_READY', errorDetails: 'no flag configuration loaded yet, or shutting down' }), {
    status: 503, headers: { 'content-type': 'application/json; charset=utf-8', 'retry-after': '1' },
  });
}

/** Mount `GET /v1/config/stream` and `GET /v1/config/poll` on the app (auth is the caller's middleware). */
export function registerPushRoutes(app: Hono, feed: ConfigFeed): void {
  app.get('/v1/config/stream', (c: Context) => feed.stream(c.req.header('last-event-id') ?? c.req.query('lastEventId') ?? null));
  app.get('/v1/config/poll', (c: Context) => {
    const etag = c.req.header('if-none-match') ?? c.req.query('etag') ?? null;
    return feed.poll(etag, Number(c.req.query('waitMs') ?? 25_000), c.req.raw.signal);
  });
}
