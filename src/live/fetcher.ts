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

/**
 * Request the config once.
 * @param url the full URL (carries the key; never put it in a message).
 * @param options timeout covering headers and body, the ETag to revalidate, the fetch to use, and a signal that
 *   cancels the request (closing the client).
 * @returns the outcome; never throws.
 */
export async function fetchConfig(url: string, options: { timeoutMs: number; etag: string | null; fetch: FetchLike; signal?: AbortSignal }): Promise<FetchOutcome> {
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
        return { kind: 'not-modified' };
      }
      if (!res.ok) {
        await discard(res);
        return { kind: 'error', status: res.status, message: `HTTP ${res.status}`, retryAfterMs: retryAfter(res.headers.get('retry-after')) };
      }
      const text = await res.text();
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
