/**
 * Request bodies for the server: read as text up to a byte limit (413 beyond), straight from node:http's
 * IncomingMessage where the adapter passes it (Node, Deno) or from the web Request's stream (Bun, fetch). One
 * {@link BodyWatch} per app replaces per-request timers: it wakes every few tens of milliseconds while bodies are
 * being read and fails a read whose body paused for the idle timeout (408) or whose request passed its deadline (504).
 * No read creates a timer of its own; a small body that came with its headers is read in the same event-loop turn.
 * @module
 */
import { HTTPException } from 'hono/http-exception';

/** The part of node:http's IncomingMessage that {@link readIncoming} uses. */
export interface IncomingLike {
  readableEnded: boolean;
  on(event: string, listener: (arg: never) => void): unknown;
  off(event: string, listener: (arg: never) => void): unknown;
}

/** Settles a read: an error (HTTPException 400/408/413/504, or the stream's own) or the body text. */
export type BodyCallback = (err: Error | null, text: string) => void;

interface Reading {
  /** performance.now() of the last bytes (or of the start). */
  last: number;
  /** performance.now() after which the request is over its deadline. */
  deadlineAt: number;
  expire(err: HTTPException): void;
}

/** Idle and deadline timeouts of all body reads of one app, checked by one interval timer. */
export class BodyWatch {
  readonly #reads = new Set<Reading>();
  readonly #period: number;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(readonly idleMs: number, readonly deadlineMs: number) {
    // Checked 20 times per bound: a stalled body gets its 408 within idleMs + 5 %.
    this.#period = Math.max(5, Math.min(idleMs, deadlineMs) / 20);
  }

  add(reading: Reading): void {
    this.#reads.add(reading);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), this.#period);
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  delete(reading: Reading): void {
    this.#reads.delete(reading);
  }

  #sweep(): void {
    if (this.#reads.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const now = performance.now();
    for (const r of this.#reads) {
      if (now >= r.deadlineAt) r.expire(new HTTPException(504, { message: 'request timed out' }));
      else if (now - r.last >= this.idleMs) r.expire(new HTTPException(408, { message: `request body stalled for ${this.idleMs} ms` }));
    }
  }
}

/** A body over the route's limit: 413. */
export const tooLargeError = (limit: number): HTTPException => new HTTPException(413, { message: `request body exceeds ${limit} bytes` });
const decoder = new TextDecoder();

/** A request body's text (UTF-8; a leading byte-order mark dropped, malformed bytes as U+FFFD). */
export function decodeBody(bytes: Uint8Array): string {
  return decoder.decode(bytes);
}

function decodeChunks(chunks: Uint8Array[], size: number): string {
  if (chunks.length === 1) return decoder.decode(chunks[0]);
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return decoder.decode(all);
}

/**
 * Read node:http's request body; `started` is the request's performance.now() (its deadline counts from there).
 * `done` is called exactly once.
 */
export function readIncoming(incoming: IncomingLike, limit: number, started: number, watch: BodyWatch, done: BodyCallback): void {
  const chunks: Uint8Array[] = [];
  let size = 0;
  let settled = false;
  const settle = (err: Error | null, text: string) => {
    if (settled) return;
    settled = true;
    watch.delete(reading);
    incoming.off('data', onData);
    incoming.off('end', onEnd);
    incoming.off('error', onError);
    incoming.off('close', onClose);
    done(err, text);
  };
  const reading: Reading = { last: performance.now(), deadlineAt: started + watch.deadlineMs, expire: (err) => settle(err, '') };
  const onData = (chunk: Uint8Array) => {
    size += chunk.length;
    if (size > limit) return settle(tooLargeError(limit), '');
    chunks.push(chunk);
    reading.last = performance.now();
  };
  const onEnd = () => settle(null, decodeChunks(chunks, size));
  const onError = (err: Error) => settle(err, '');
  const onClose = () => (incoming.readableEnded ? onEnd() : settle(new HTTPException(400, { message: 'the client closed the connection before the request body ended' }), ''));
  if (incoming.readableEnded) return onEnd();
  incoming.on('data', onData);
  incoming.on('end', onEnd);
  incoming.on('error', onError);
  incoming.on('close', onClose);
  watch.add(reading);
}

/**
 * Read a web request body whose Content-Length is known and within the route's limit in one native call (Bun's
 * `text()` is much cheaper than a stream reader). Progress cannot be seen, so the idle timeout bounds the whole body.
 */
export function readWhole(request: { text(): Promise<string> }, started: number, watch: BodyWatch, done: BodyCallback): void {
  let settled = false;
  const settle = (err: Error | null, text: string) => {
    if (settled) return;
    settled = true;
    watch.delete(reading);
    done(err, text);
  };
  const reading: Reading = { last: performance.now(), deadlineAt: started + watch.deadlineMs, expire: (err) => settle(err, '') };
  watch.add(reading);
  request.text().then((text) => settle(null, text), (err) => settle(err, ''));
}

/** Read a web request body (Bun, Deno.serve, fetch handlers) with the same limit and timeouts. */
export async function readStream(body: ReadableStream<Uint8Array>, limit: number, started: number, watch: BodyWatch): Promise<string> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let expired: HTTPException | null = null;
  const reading: Reading = {
    last: performance.now(),
    deadlineAt: started + watch.deadlineMs,
    expire: (err) => {
      expired = err;
      watch.delete(reading);
      reader.cancel().catch(() => {});
    },
  };
  watch.add(reading);
  try {
    for (;;) {
      let next: ReadableStreamReadResult<Uint8Array>;
      try {
        next = await reader.read();
      } catch (err) {
        throw expired ?? err;
      }
      if (expired) throw expired;
      if (next.done) return decodeChunks(chunks, size);
      size += next.value.length;
      if (size > limit) {
        reader.cancel().catch(() => {});
        throw tooLargeError(limit);
      }
      chunks.push(next.value);
      reading.last = performance.now();
    }
  } finally {
    watch.delete(reading);
  }
}
