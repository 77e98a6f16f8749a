/**
 * The OFREP routes on node:http (Node, and Deno through its node:http) without Hono in between: no web Request or
 * Response, no middleware chain, no per-request timer, one event-loop turn for a body that came with its headers.
 * It answers exactly as the Hono routes do, through the same handlers ({@link AppCore}: request ids, auth, body
 * limits, 408/504 timeouts, metrics, access log, error bodies); anything unusual (another method or route, a key
 * that needs URL decoding or normalising, an Origin while CORS is configured) is left to Hono.
 * @module
 */
import { Buffer } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AppCore, type Reply, parseJson } from './app.ts';
import { type IncomingLike, readIncoming, tooLargeError } from './body.ts';

const PREFIX = '/ofrep/v1/evaluate/flags';
/** Flag keys that a URL parser passes through unchanged and that need no decoding (no %, no dot segment). */
const PLAIN_KEY = /^[\w~!$&'()*+,;=:@.-]+$/;

/** A node:http request listener step: true when it answered the request, false to leave it to Hono. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The fast path of an app's OFREP routes. */
export function ofrepFastPath(core: AppCore): FastPath {
  const limit = core.ofrepBodyLimit;
  return (req, res) => {
    const url = req.url;
    if (req.method !== 'POST' || url === undefined || !url.startsWith(PREFIX)) return false;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    let key: string | null = null;
    if (path.length > PREFIX.length) {
      if (path.charCodeAt(PREFIX.length) !== 47) return false;
      key = path.slice(PREFIX.length + 1);
      if (!PLAIN_KEY.test(key) || key === '.' || key === '..') return false;
    }
    const headers = req.headers;
    if (core.cors && headers.origin !== undefined) return false;

    const started = performance.now();
    const id = core.begin(headers['x-request-id'] as string | undefined);
    const reply = (r: Reply) => {
      core.finish('POST', path, r.status, started, id);
      const out: Record<string, string | number> = { 'x-request-id': id };
      for (const name in r.headers) out[name] = r.headers[name];
      if (r.body !== null) out['content-length'] = Buffer.byteLength(r.body);
      res.writeHead(r.status, out);
      res.end(r.body ?? undefined);
    };
    try {
      const denied = core.ofrepAuth(headers.authorization, headers['x-api-key'] as string | undefined, undefined);
      if (denied !== null) return reply(denied), true;
      const length = headers['content-length'];
      if (length !== undefined && Number(length) > limit) return reply(core.errorReply(tooLargeError(limit))), true;
      readIncoming(req as unknown as IncomingLike, limit, started, core.watch, (err, text) => {
        let r: Reply;
        try {
          if (err !== null) r = core.errorReply(err);
          else r = key === null ? core.ofrepBulk(parseJson(text), headers['if-none-match']) : core.ofrepSingle(key, parseJson(text));
        } catch (e) {
          r = core.errorReply(e);
        }
        reply(r);
      });
    } catch (e) {
      reply(core.errorReply(e));
    }
    return true;
  };
}
