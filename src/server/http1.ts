/**
 * The listening socket on Node and Deno: a node:net server that answers the common OFREP request itself and hands
 * every other connection to node:http. node:http spends most of a small request's time building IncomingMessage and
 * ServerResponse objects (and Deno's node:http twice that), while an OFREP evaluation is one short POST answered
 * from memory.
 *
 * A chunk of bytes is answered here only when it holds whole requests that are unambiguous: `POST` to an OFREP route
 * over HTTP/1.1, a Host header, header names that are tokens and values without control characters, at most one
 * of each header the server reads, a Content-Length (or no body) within the OFREP body limit and the whole body in
 * the chunk, no Transfer-Encoding, Expect or Upgrade, no line folding, headers within 16 KiB. Anything else — other
 * routes, partial requests, slow or malformed clients — goes with the rest of its connection to node:http, which
 * then owns it with all its rules (header and request timeouts, 400/413/431, chunked bodies,
 * Hono's routes). Answers come from the same handlers as node:http's fast path (src/server/fast-path.ts); the
 * tests compare them with the Hono routes (test/server-fast-path.test.ts, test/server-http1.test.ts).
 * @module
 */
import { Buffer, isAscii } from 'node:buffer';
import { STATUS_CODES, type Server as HttpServer } from 'node:http';
// A namespace import: bundles for browsers and Workers (test/workerd.test.ts) reach this module through serve.ts, and
// their node:net stand-in has no createServer or createConnection (never called there).
import * as net from 'node:net';
import type { Server as NetServer, Socket } from 'node:net';
import type { AppCore, Reply } from './app.ts';
import { decodeBody } from './body.ts';
import { handle, route } from './fast-path.ts';

/** Header blocks larger than this go to node:http (its maxHeaderSize, 16 KiB, then applies). */
const MAX_HEAD = 16 * 1024;
const PREFIX = 'POST /ofrep/v1/evaluate/flags';
const VERSION = ' HTTP/1.1\r\n';
/** Bytes of a header name (RFC 9110 token). */
const TOKEN_BYTE = byteClass((c) => /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(String.fromCharCode(c)));
/** Bytes of a header value: HTAB, visible ASCII, space, obs-text (no control characters, no bare CR or LF). */
const VALUE_BYTE = byteClass((c) => c === 9 || (c >= 0x20 && c !== 0x7f));

function byteClass(test: (c: number) => boolean): Uint8Array {
  const table = new Uint8Array(256);
  for (let c = 0; c < 256; c++) table[c] = test(c) ? 1 : 0;
  return table;
}

/** Whether bytes [start, end) are `lower` (lowercase letters and '-'), compared without case. */
function nameIs(chunk: Uint8Array, start: number, end: number, lower: string): boolean {
  if (end - start !== lower.length) return false;
  for (let i = 0; i < lower.length; i++) if ((chunk[start + i] | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/** Whether `chunk` holds the ASCII text `text` at `at`. */
function bytesAre(chunk: Uint8Array, at: number, text: string): boolean {
  if (chunk.length - at < text.length) return false;
  for (let i = 0; i < text.length; i++) if (chunk[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** The headers the handlers read (a request naming one of them twice is left to node:http, which joins or drops repeats). */
const READ = ['authorization', 'x-api-key', 'x-request-id', 'origin', 'if-none-match'] as const;
/** Headers that change how the message is framed or answered: node:http handles the request. */
const HAND_OFF = ['transfer-encoding', 'expect', 'upgrade', 'te', 'trailer'];

/** Options of {@link http1Front}. */
export interface Http1FrontOptions {
  core: AppCore;
  /**
   * The node:http server that takes every connection this front does not answer alone. On Node it does not listen:
   * connections are handed to it (`emit('connection')`). Deno's node:http closes such a connection after its first
   * answer, so on Deno it listens on an ephemeral loopback port and connections are piped to it.
   */
  http: HttpServer;
  /** Deno: the loopback port `http` listens on; null: hand connections over in process. */
  relayPort: number | null;
  /** A connection must send its first request within this, ms (node:http's headersTimeout). */
  headersTimeout: number;
  /** An idle keep-alive connection is closed after this, ms (node:http's keepAliveTimeout). */
  keepAliveTimeout: number;
}

/** The node:net server, and how to close the connections it still holds. */
export interface Http1Front {
  readonly server: NetServer;
  /** Ends the connections between requests (all of this front's; node:http's idle ones); from then on every answer
   *  here carries `Connection: close` and ends its connection. */
  closeIdle(): void;
  /** Destroys every connection. */
  closeAll(): void;
}

/** A request this front answers: where its bytes end, and what the handlers need. */
interface Parsed {
  end: number;
  path: string;
  key: string | null;
  /** The values of {@link READ}'s headers that were sent. */
  headers: Map<string, string>;
  body: string;
  close: boolean;
}

/**
 * One whole request at `at` in `chunk`, when this front may answer it; null when the rest of the connection goes to
 * node:http. One pass over the header bytes; only the values the handlers read are decoded.
 */
export function parseRequest(chunk: Buffer, at: number, bodyLimit: number): Parsed | null {
  const n = chunk.length;
  if (!bytesAre(chunk, at, PREFIX)) return null;
  let i = at + 5;
  while (i < n && chunk[i] > 0x20 && chunk[i] < 0x7f) i++;
  if (!bytesAre(chunk, i, VERSION)) return null;
  const r = route(chunk.toString('latin1', at + 5, i));
  if (r === null) return null;
  i += VERSION.length;
  const headers = new Map<string, string>();
  let host = false;
  let size = -1;
  let connection: string | null = null;
  for (;;) {
    if (i - at > MAX_HEAD || i + 1 >= n) return null;
    if (chunk[i] === 13) {
      if (chunk[i + 1] !== 10) return null;
      i += 2;
      break;
    }
    const nameStart = i;
    while (i < n && TOKEN_BYTE[chunk[i]] === 1) i++;
    if (i === nameStart || i >= n || chunk[i] !== 0x3a) return null;
    const nameEnd = i++;
    while (i < n && (chunk[i] === 32 || chunk[i] === 9)) i++;
    const valueStart = i;
    while (i < n && VALUE_BYTE[chunk[i]] === 1) i++;
    if (i + 1 >= n || chunk[i] !== 13 || chunk[i + 1] !== 10) return null;
    let valueEnd = i;
    while (valueEnd > valueStart && (chunk[valueEnd - 1] === 32 || chunk[valueEnd - 1] === 9)) valueEnd--;
    i += 2;
    const length = nameEnd - nameStart;
    if (length === 4 && nameIs(chunk, nameStart, nameEnd, 'host')) {
      if (host) return null;
      host = true;
    } else if (length === 14 && nameIs(chunk, nameStart, nameEnd, 'content-length')) {
      if (size >= 0 || valueEnd === valueStart || valueEnd - valueStart > 15) return null;
      size = 0;
      for (let d = valueStart; d < valueEnd; d++) {
        const digit = chunk[d] - 48;
        if (digit < 0 || digit > 9) return null;
        size = size * 10 + digit;
      }
    } else if (length === 10 && nameIs(chunk, nameStart, nameEnd, 'connection')) {
      if (connection !== null) return null;
      connection = chunk.toString('latin1', valueStart, valueEnd).toLowerCase();
      if (connection !== 'keep-alive' && connection !== 'close') return null;
    } else {
      for (const name of HAND_OFF) if (nameIs(chunk, nameStart, nameEnd, name)) return null;
      for (const name of READ) {
        if (!nameIs(chunk, nameStart, nameEnd, name)) continue;
        if (headers.has(name)) return null;
        headers.set(name, chunk.toString('latin1', valueStart, valueEnd));
      }
    }
  }
  if (!host) return null;
  if (size < 0) size = 0;
  if (size > bodyLimit || i + size > n) return null;
  const end = i + size;
  const body = size === 0 ? '' : isAscii(chunk.subarray(i, end)) ? chunk.toString('latin1', i, end) : decodeBody(chunk.subarray(i, end));
  return { end, path: r.path, key: r.key, headers, body, close: connection === 'close' };
}

/** The response's bytes: status line, the reply's headers, request id, length, date, connection. */
function responseText(reply: Reply, id: string, close: boolean, keepAliveSeconds: number): string {
  let text = `HTTP/1.1 ${reply.status} ${STATUS_CODES[reply.status] ?? 'unknown'}\r\n`;
  for (const name in reply.headers) {
    if (name === 'connection') continue;
    text += `${name}: ${reply.headers[name]}\r\n`;
  }
  text += `x-request-id: ${id}\r\n`;
  if (reply.status !== 304) text += `content-length: ${reply.body === null ? 0 : Buffer.byteLength(reply.body)}\r\n`;
  text += `date: ${httpDate()}\r\n`;
  text += close ? 'connection: close\r\n\r\n' : `connection: keep-alive\r\nkeep-alive: timeout=${keepAliveSeconds}\r\n\r\n`;
  return reply.body === null || reply.status === 304 ? text : text + reply.body;
}

let dateSecond = -1;
let dateText = '';
/** The Date header's text, rebuilt once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

/** A connection this front still holds, and when it was last active (in sweeper ticks). */
interface Held {
  readonly socket: Socket;
  /** Requests answered so far. */
  served: number;
  /** The sweeper's tick at the last answer (or at the connection's start). */
  lastTick: number;
}

/** Listen with {@link Http1FrontOptions}: answer whole OFREP requests here, give everything else to node:http. */
export function http1Front(options: Http1FrontOptions): Http1Front {
  const { core, http, relayPort, headersTimeout, keepAliveTimeout } = options;
  /** Connections piped to node:http's loopback listener (Deno). */
  const relayed = new Set<Socket>();
  const keepAliveSeconds = Math.floor(keepAliveTimeout / 1000);
  const held = new Set<Held>();
  let closing = false;

  // Idle connections are found by one sweeper instead of a timer re-armed per request (socket.setTimeout costs
  // ~3 µs per request on Deno): each answer stamps its connection with the current tick; the sweeper runs only while
  // connections are held, and closes a connection within a tick after its timeout.
  const tickMs = Math.max(50, Math.min(1_000, Math.min(headersTimeout, keepAliveTimeout) / 4));
  let tick = 0;
  let sweeper: ReturnType<typeof setInterval> | null = null;
  const sweep = () => {
    tick++;
    for (const h of held) {
      const idleMs = (tick - h.lastTick) * tickMs;
      if (h.served === 0 && idleMs >= headersTimeout) {
        // No request within headersTimeout on a new connection: 408, as node:http answers it.
        release(h);
        h.socket.end(`HTTP/1.1 408 ${STATUS_CODES[408]}\r\nconnection: close\r\n\r\n`);
      } else if (h.served > 0 && idleMs >= keepAliveTimeout) {
        release(h);
        h.socket.destroy();
      }
    }
  };
  const release = (h: Held) => {
    held.delete(h);
    if (held.size === 0 && sweeper !== null) {
      clearInterval(sweeper);
      sweeper = null;
    }
  };

  const onConnection = (socket: Socket) => {
    const h: Held = { socket, served: 0, lastTick: tick };
    held.add(h);
    if (sweeper === null) {
      sweeper = setInterval(sweep, tickMs);
      (sweeper as { unref?: () => void }).unref?.();
    }
    socket.setNoDelay(true);

    const giveAway = (rest: Buffer) => {
      release(h);
      socket.off('data', onData);
      socket.off('error', onError);
      if (relayPort === null) {
        socket.pause();
        socket.unshift(rest);
        http.emit('connection', socket);
        socket.resume();
        return;
      }
      // Deno: the bytes so far, then everything both ways, through node:http's loopback listener; either side
      // closing closes the other.
      relayed.add(socket);
      const inner = net.createConnection({ port: relayPort, host: '127.0.0.1', noDelay: true });
      inner.write(rest);
      socket.pipe(inner);
      inner.pipe(socket);
      const drop = () => {
        relayed.delete(socket);
        socket.destroy();
        inner.destroy();
      };
      socket.on('error', drop);
      inner.on('error', drop);
      socket.once('close', drop);
      inner.once('close', drop);
    };
    const onData = (chunk: Buffer) => {
      let at = 0;
      let ended = false;
      try {
        while (at < chunk.length && !ended) {
          const request = parseRequest(chunk, at, core.ofrepBodyLimit);
          // With CORS configured, requests with an Origin go through Hono's cors middleware.
          if (request === null || (core.cors && request.headers.has('origin'))) break;
          at = request.end;
          const close = request.close || closing;
          const headers = request.headers;
          handle(core, request.path, request.key, (name) => headers.get(name), (_limit, _started, done) => done(null, request.body), (reply, id) => {
            const last = close || reply.headers.connection === 'close';
            const flushed = socket.write(responseText(reply, id, last, keepAliveSeconds));
            if (last) {
              ended = true;
              release(h);
              socket.end();
            } else if (!flushed) {
              // The client is not reading its answers: stop reading its requests until they drain.
              socket.pause();
              socket.once('drain', () => socket.resume());
            }
          });
          h.served++;
        }
      } catch {
        // The handlers answer their own errors; anything else here is a bug: drop the connection, not the process.
        release(h);
        socket.destroy();
        return;
      }
      if (ended) return;
      if (at < chunk.length) giveAway(at === 0 ? chunk : chunk.subarray(at));
      else h.lastTick = tick;
    };
    const onError = () => socket.destroy();
    socket.on('data', onData);
    socket.on('error', onError);
    socket.once('close', () => release(h));
  };

  const server = net.createServer(onConnection);
  return {
    server,
    closeIdle() {
      closing = true;
      for (const h of held) {
        release(h);
        h.socket.end();
      }
      http.closeIdleConnections();
    },
    closeAll() {
      for (const h of held) {
        release(h);
        h.socket.destroy();
      }
      http.closeAllConnections();
      for (const socket of relayed) socket.destroy();
    },
  };
}
