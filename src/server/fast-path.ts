/**
 * The OFREP routes without Hono in between: on node:http (Node, and Deno through its node:http) no web Request or
 * Response is built, and on Bun.serve no router, context or middleware chain runs; no per-request timer either, and
 * a body that came with its headers is read in the same event-loop turn. It answers exactly as the Hono routes do,
 * through the same handlers ({@link AppCore}: request ids, auth, body limits, 408/504 timeouts, metrics, access
 * log, error bodies); anything unusual (another method or route, a key that needs URL decoding or normalising, an
 * Origin while CORS is configured) is left to Hono.
 * @module
 */
import { Buffer } from 'node:buffer';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type AppCore, type JsonBody, type Reply, parseJson } from './app.ts';
import { type BodyCallback, type IncomingLike, readIncoming, readStream, readWhole, tooLargeError } from './body.ts';

const PREFIX = '/ofrep/v1/evaluate/flags';
/** Flag keys that a URL parser passes through unchanged and that need no decoding (no %, no dot segment). */
const PLAIN_KEY = /^[\w~!$&'()*+,;=:@.-]+$/;

/** An OFREP route's path (no query) and flag key (null: bulk), or null when Hono should answer. */
export function route(target: string): { path: string; key: string | null } | null {
  if (!target.startsWith(PREFIX)) return null;
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  if (path.length === PREFIX.length) return { path, key: null };
  if (path.charCodeAt(PREFIX.length) !== 47) return null;
  const key = path.slice(PREFIX.length + 1);
  return PLAIN_KEY.test(key) && key !== '.' && key !== '..' ? { path, key } : null;
}

/** One OFREP request through the shared handlers; `send` gets the reply (once) and the request id. */
export function handle(
  core: AppCore, path: string, key: string | null, header: (name: string) => string | undefined,
  read: (limit: number, started: number, done: BodyCallback) => void, send: (r: Reply, id: string) => void,
): void {
  const started = performance.now();
  const id = core.begin(header('x-request-id'));
  const reply = (r: Reply) => {
    core.finish('POST', path, r.status, started, id);
    send(r, id);
  };
  try {
    const denied = core.ofrepAuth(header('authorization'), header('x-api-key'), undefined);
    if (denied !== null) return reply(denied);
    const limit = core.ofrepBodyLimit;
    const length = header('content-length');
    if (length !== undefined && Number(length) > limit) return reply(core.errorReply(tooLargeError(limit)));
    read(limit, started, (err, text) => {
      let r: Reply;
      try {
        if (err !== null) r = core.errorReply(err);
        else {
          const body: JsonBody = parseJson(text);
          r = key === null ? core.ofrepBulk(body, header('if-none-match')) : core.ofrepSingle(key, body);
        }
      } catch (e) {
        r = core.errorReply(e);
      }
      reply(r);
    });
  } catch (e) {
    reply(core.errorReply(e));
  }
}

/** A node:http request listener step: true when it answered the request, false to leave it to Hono. */
export type NodeFastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

/** The node:http fast path of an app's OFREP routes. */
export function nodeFastPath(core: AppCore): NodeFastPath {
  return (req, res) => {
    const r = req.method === 'POST' && req.url !== undefined ? route(req.url) : null;
    const headers = req.headers;
    if (r === null || (core.cors && headers.origin !== undefined)) return false;
    handle(core, r.path, r.key, (name) => headers[name] as string | undefined,
      (limit, started, done) => readIncoming(req as unknown as IncomingLike, limit, started, core.watch, done),
      (reply, id) => {
        const out: Record<string, string | number> = { 'x-request-id': id };
        for (const name in reply.headers) out[name] = reply.headers[name];
        if (reply.body !== null) out['content-length'] = Buffer.byteLength(reply.body);
        res.writeHead(reply.status, out);
        res.end(reply.body ?? undefined);
      });
    return true;
  };
}

/** The web (Bun.serve) fast path of an app's OFREP routes: a Response promise, or null to leave it to Hono. */
export function fetchFastPath(core: AppCore): (req: Request) => Promise<Response> | null {
  return (req) => {
    if (req.method !== 'POST') return null;
    const url = req.url;
    const slash = url.indexOf('/', url.indexOf('//') + 2);
    const r = slash < 0 ? null : route(url.slice(slash));
    const headers = req.headers;
    if (r === null || (core.cors && headers.has('origin'))) return null;
    return new Promise((resolve) => {
      handle(core, r.path, r.key, (name) => headers.get(name) ?? undefined,
        (limit, started, done) => {
          if (req.body === null) return done(null, '');
          if (headers.has('content-length')) return readWhole(req, started, core.watch, done);
          readStream(req.body, limit, started, core.watch).then((text) => done(null, text), (err) => done(err, ''));
        },
        (reply, id) => resolve(new Response(reply.body, { status: reply.status, headers: { ...reply.headers, 'x-request-id': id } })));
    });
  };
}
