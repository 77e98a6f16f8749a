/**
 * One config request: a deadline that covers the body too, ETag / If-None-Match, redirects followed only on the
 * same origin, and outcomes described in our own words so the SDK key (a query parameter) never leaks into a
 * message: runtimes put the full URL in fetch errors (reliability-plan §0.5).
 * @module
 */

/** What one request gave. */
export type FetchOutcome =
  | { readonly kind: 'ok'; readonly text: string; readonly etag: string | null }
  | { readonly kind: 'not-modified' }
  | { readonly kind: 'error'; readonly status: number; readonly message: string; readonly retryAfterMs: number | null };

/** The fetch function shape we need (the global `fetch` fits). */
export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

const MAX_REDIRECTS = 3;

/** Default cap on a response body, decompressed: 64 MiB, far above the largest real configs (~10 MB). */
export const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

/**
 * The body as text, or null as soon as it exceeds `max` bytes (the rest is cancelled, nothing is decoded).
 * Bytes are decoded only once the whole body is in, so a gzip bomb costs about `max` bytes of memory.
 */
async function readCapped(res: Response, max: number): Promise<string | null> {
  const body = res.body;
  if (body === null) return '';
  let byob: ReadableStreamBYOBReader | null = null;
  try {
    byob = body.getReader({ mode: 'byob' });
  } catch {
    // Not a byte stream (Bun's fetch bodies): the default reader.
  }
  const parts = byob ? await fillBlocks(byob, max) : await keepChunks(body.getReader(), max);
  if (parts === null) return null;
  const decoder = new TextDecoder();
  let text = '';
  for (let i = 0; i < parts.length; i++) {
    text += decoder.decode(parts[i], { stream: true });
    parts[i] = EMPTY;
  }
  return text + decoder.decode();
}

/** Size of the blocks a BYOB reader fills (the last one is cut to its used length). */
const BLOCK = 1 << 20;

/**
 * The bytes read into 1 MiB blocks, or null past `max` (Node, Deno). Deno's default reader hands out a fresh
 * buffer per 4 KiB chunk; that garbage alone took a gzip bomb's peak memory past twice the cap.
 */
async function fillBlocks(reader: ReadableStreamBYOBReader, max: number): Promise<Uint8Array[] | null> {
  const blocks: Uint8Array[] = [];
  let block = new Uint8Array(BLOCK);
  let used = 0;
  let total = 0;
  try {
    for (;;) {
      if (used === BLOCK) {
        blocks.push(block);
        block = new Uint8Array(BLOCK);
        used = 0;
      }
      const { done, value } = await reader.read(new Uint8Array(block.buffer, used));
      // A read transfers the block's buffer: carry on with the one it came back in.
      if (value === undefined) throw new Error('body stream cancelled');
      block = new Uint8Array(value.buffer);
      used += value.byteLength;
      total += value.byteLength;
      if (total > max) {
        await reader.cancel().catch(() => {});
        return null;
      }
      if (done) break;
    }
  } finally {
    reader.releaseLock();
  }
  blocks.push(block.subarray(0, used));
  return blocks;
}

/** The chunks as read, or null past `max` (Bun). A view of a larger buffer is copied: keeping it keeps the buffer. */
async function keepChunks(reader: ReadableStreamDefaultReader<Uint8Array>, max: number): Promise<Uint8Array[] | null> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > max) {
        await reader.cancel().catch(() => {});
        return null;
      }
      chunks.push(value.byteOffset === 0 && value.byteLength === value.buffer.byteLength ? value : value.slice());
    }
  } finally {
    reader.releaseLock();
  }
  return chunks;
}

const EMPTY = new Uint8Array(0);

/**
 * Request the config once.
 * @param url the full URL (carries the key; never put it in a message).
 * @param options timeout covering headers and body, the ETag to revalidate, the fetch to use, a signal that
 *   cancels the request (closing the client), and the most (decompressed) body bytes accepted.
 * @returns the outcome; never throws.
 */
export async function fetchConfig(url: string, options: { timeoutMs: number; etag: string | null; fetch: FetchLike; signal?: AbortSignal; maxBytes?: number }): Promise<FetchOutcome> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs);
  const stop = () => controller.abort();
  options.signal?.addEventListener('abort', stop);
  try {
    let target = url;
    for (let hop = 0; ; hop++) {
      const headers: Record<string, string> = { accept: 'application/json' };
      if (options.etag) headers['if-none-match'] = options.etag;
      const res = await options.fetch(target, { headers, redirect: 'manual', signal: controller.signal });
      if (res.status >= 300 && res.status < 400 && res.status !== 304) {
        await discard(res);
        const location = res.headers.get('location');
        const next = location ? safeUrl(location, target) : null;
        if (next === null || next.origin !== new URL(target).origin) {
          return error(res.status, `HTTP ${res.status} redirect to another host refused (the SDK key is not sent there)`);
        }
        if (hop >= MAX_REDIRECTS) return error(res.status, `more than ${MAX_REDIRECTS} redirects`);
        target = next.href;
        continue;
      }
      if (res.status === 304) {
        await discard(res);
        // 304 revalidates only what we asked about: without an If-None-Match it confirms no config at all.
        if (!options.etag) return error(304, 'HTTP 304 Not Modified to a request that sent no If-None-Match (no config received)');
        return { kind: 'not-modified' };
      }
      if (!res.ok) {
        await discard(res);
        return { kind: 'error', status: res.status, message: `HTTP ${res.status}`, retryAfterMs: retryAfter(res.headers.get('retry-after')) };
      }
      const max = options.maxBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
      const declared = Number(res.headers.get('content-length') ?? Number.NaN);
      // Content-Length counts encoded bytes; the streamed count below covers decompressed ones (gzip bombs).
      if (declared > max && res.headers.get('content-encoding') === null) {
        await discard(res);
        return error(413, `response larger than the ${max}-byte limit (maxResponseBytes)`);
      }
      const text = await readCapped(res, max);
      if (text === null) return error(413, `response larger than the ${max}-byte limit (maxResponseBytes)`);
      return { kind: 'ok', text, etag: res.headers.get('etag') };
    }
  } catch (err) {
    if (options.signal?.aborted) return error(0, 'cancelled: the client was closed');
    if (controller.signal.aborted) return error(408, `no complete response within ${options.timeoutMs} ms`);
    return error(0, `network error${causeCode(err)}`);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', stop);
  }
}

function error(status: number, message: string): FetchOutcome {
  return { kind: 'error', status, message, retryAfterMs: null };
}

async function discard(res: Response): Promise<void> {
  try {
    await res.body?.cancel();
  } catch {
    // Nothing to release.
  }
}

function safeUrl(location: string, base: string): URL | null {
  try {
    return new URL(location, base);
  } catch {
    return null;
  }
}

/** Retry-After as delay-seconds or an HTTP date, in ms; null when absent or unreadable. */
export function retryAfter(value: string | null, now: number = Date.now()): number | null {
  if (value === null) return null;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

// Only a system error code (ECONNREFUSED, ENOTFOUND…) is safe to repeat: messages may quote the URL.
function causeCode(err: unknown): string {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 4; e = e.cause as typeof e, i++) {
    if (typeof e.code === 'string' && /^[A-Z][A-Z0-9_]{2,40}$/.test(e.code)) return ` (${e.code})`;
  }
  return '';
}
