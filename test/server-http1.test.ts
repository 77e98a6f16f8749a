// The listening front on Node and Deno (src/server/http1.ts) answers whole, unambiguous OFREP requests itself and
// gives every other connection to node:http. Over raw sockets: pipelined and split requests, requests whose framing
// node:http must judge (chunked, Expect, repeated or malformed headers, bare LF, folding, HTTP/1.0, no Host),
// Connection: close, a client that does not read its answers, idle and silent connections, shutdown. Answers are
// compared with the app's Hono routes in memory. On Bun (Bun.serve, no front) the same exchanges must hold where
// they are not about node:http's framing rules.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { Buffer } from 'node:buffer';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { offlineInit } from '../src/mod.ts';
import { createApp } from '../src/server/app.ts';
import { parseRequest } from '../src/server/http1.ts';
import { type RunningServer, currentRuntime, serve } from '../src/server/serve.ts';
import { ROOT } from './support.ts';

const t = suite('server-http1');
const CONFIG = readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8');
const client = () => offlineInit({ flagsConfiguration: CONFIG, logger: { error() {}, warn() {} }, assignmentLogger: { logAssignment() {} } });
const PATH = '/ofrep/v1/evaluate/flags/checkout-redesign';
const body = (subject: string) => JSON.stringify({ context: { targetingKey: subject, country: 'FR' } });
const post = (subject: string, extra = '', path = PATH) => {
  const text = body(subject);
  return `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n${extra}\r\n${text}`;
};

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Reads HTTP/1.1 answers (Content-Length or chunked bodies; none for 1xx/304) from a raw connection. */
class Wire {
  readonly socket: Socket;
  #buffer = Buffer.alloc(0);
  #waiters: (() => void)[] = [];
  closed = false;
  readonly whenClosed: Promise<void>;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    this.socket.on('data', (d: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, d]);
      this.#wake();
    });
    this.socket.on('error', () => {});
    this.whenClosed = new Promise((resolve) => this.socket.on('close', () => {
      this.closed = true;
      this.#wake();
      resolve();
    }));
  }

  #wake() {
    for (const w of this.#waiters.splice(0)) w();
  }

  async #more(): Promise<void> {
    if (this.closed) throw new Error('connection closed');
    await new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  send(text: string | Buffer): void {
    this.socket.write(text);
  }

  async answer(): Promise<Answer> {
    for (;;) {
      const end = this.#buffer.indexOf('\r\n\r\n');
      if (end >= 0) {
        const [line, ...lines] = this.#buffer.toString('latin1', 0, end).split('\r\n');
        const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(line)?.[1]);
        const headers: Record<string, string> = {};
        for (const l of lines) headers[l.slice(0, l.indexOf(':')).toLowerCase()] = l.slice(l.indexOf(':') + 1).trim();
        let at = end + 4;
        if (status < 200 || status === 304) {
          this.#buffer = this.#buffer.subarray(at);
          return { status, headers, body: '' };
        }
        if (headers['transfer-encoding'] === 'chunked') {
          const parts: Buffer[] = [];
          let complete = false;
          for (;;) {
            const eol = this.#buffer.indexOf('\r\n', at);
            if (eol < 0) break;
            const size = parseInt(this.#buffer.toString('latin1', at, eol), 16);
            if (this.#buffer.length < eol + 2 + size + 2) break;
            if (size === 0) {
              at = eol + 4;
              complete = true;
              break;
            }
            parts.push(this.#buffer.subarray(eol + 2, eol + 2 + size));
            at = eol + 2 + size + 2;
          }
          if (complete) {
            this.#buffer = this.#buffer.subarray(at);
            return { status, headers, body: Buffer.concat(parts).toString('utf8') };
          }
        } else {
          const length = Number(headers['content-length'] ?? 0);
          if (this.#buffer.length >= at + length) {
            const text = this.#buffer.toString('utf8', at, at + length);
            this.#buffer = this.#buffer.subarray(at + length);
            return { status, headers, body: text };
          }
        }
      }
      await this.#more();
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

async function withServer(fn: (server: RunningServer, hono: ReturnType<typeof createApp>) => Promise<void>, options: Partial<Parameters<typeof serve>[0]> = {}) {
  const server = await serve({ client: client(), port: 0, hostname: '127.0.0.1', drainTimeoutMs: 1_000, ...options });
  const hono = createApp({ client: client() });
  try {
    await fn(server, hono);
  } finally {
    await server.shutdown();
  }
}

/** The Hono route's answer to the same request, in memory. */
async function expected(hono: ReturnType<typeof createApp>, subject: string): Promise<{ status: number; body: string }> {
  const res = await hono.fetch(new Request(`http://x${PATH}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(subject) }));
  return { status: res.status, body: await res.text() };
}

const onNodeHttp = currentRuntime() !== 'bun';

t('whole requests: pipelined in one write, split across writes, then another route on the same connection', async () => {
  await withServer(async (server, hono) => {
    const wire = new Wire(server.port);
    wire.send(post('user-1') + post('user-2') + post('user-3'));
    for (const subject of ['user-1', 'user-2', 'user-3']) {
      const a = await wire.answer();
      assert.deepEqual({ status: a.status, body: a.body }, await expected(hono, subject));
      assert.equal(a.headers['content-type'], 'application/json');
      assert.match(a.headers['x-request-id'], /^[0-9a-f-]{36}$/);
      if (onNodeHttp) assert.equal(a.headers.connection, 'keep-alive');
    }
    // Headers first, the body 50 ms later; then a request cut in the middle of a header line.
    const split = post('user-4');
    wire.send(split.slice(0, split.indexOf('\r\n\r\n') + 4));
    await new Promise((r) => setTimeout(r, 50));
    wire.send(split.slice(split.indexOf('\r\n\r\n') + 4));
    assert.deepEqual(await wire.answer().then((a) => ({ status: a.status, body: a.body })), await expected(hono, 'user-4'));
    const cut = post('user-5');
    wire.send(cut.slice(0, 40));
    await new Promise((r) => setTimeout(r, 50));
    wire.send(cut.slice(40));
    assert.deepEqual(await wire.answer().then((a) => ({ status: a.status, body: a.body })), await expected(hono, 'user-5'));
    // Another route and then OFREP again, on the same connection.
    wire.send('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    const health = await wire.answer();
    assert.equal(health.status, 200);
    assert.equal(JSON.parse(health.body).status, 'ok');
    wire.send(post('user-6'));
    assert.deepEqual(await wire.answer().then((a) => ({ status: a.status, body: a.body })), await expected(hono, 'user-6'));
    wire.close();
    assert.equal(server.app.inFlight, 0);
  });
});

t('framing that node:http must judge is left to it: chunked, Expect, repeated or malformed headers, HTTP/1.0, no Host', async () => {
  const text = body('user-7');
  const plain = Buffer.from(post('user-7'), 'latin1');
  assert.notEqual(parseRequest(plain, 0, 65_536), null);
  const chunked = `POST ${PATH} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${text.length.toString(16)}\r\n${text}\r\n0\r\n\r\n`;
  const cases: [string, string, (a: Answer) => void][] = [
    ['chunked body', chunked, (a) => assert.equal(a.status, 200)],
    ['Expect: 100-continue', post('user-7', 'Expect: 100-continue\r\n'), (a) => assert.ok(a.status === 100 || a.status === 200, String(a.status))],
    ['two Content-Lengths', post('user-7', `Content-Length: ${text.length + 1}\r\n`), (a) => assert.equal(a.status, 400)],
    ['folded header line', post('user-7', 'X-Folded: a\r\n b\r\n'), (a) => assert.equal(a.status, 400)],
    ['bare LF in a header', post('user-7', 'X-Bad: a\nTransfer-Encoding: chunked\r\n'), (a) => assert.equal(a.status, 400)],
    ['space before the colon', post('user-7', 'X-Bad : a\r\n'), (a) => assert.equal(a.status, 400)],
    ['no Host', post('user-7').replace('Host: x\r\n', ''), (a) => assert.equal(a.status, 400)],
    ['Content-Length over the OFREP limit', `POST ${PATH} HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n`, (a) => assert.equal(a.status, 413)],
    ['two Authorization headers', post('user-7', 'Authorization: Bearer a\r\nAuthorization: Bearer b\r\n'), (a) => assert.equal(a.status, 200)],
  ];
  for (const [name, request] of cases) assert.equal(parseRequest(Buffer.from(request, 'latin1'), 0, 65_536), null, name);
  if (onNodeHttp) await withServer(async (server) => {
    for (const [name, request, check] of cases) {
      const wire = new Wire(server.port);
      wire.send(request);
      const a = await wire.answer();
      check(a);
      if (a.status === 100) assert.equal((await wire.answer()).status, 200, name);
      wire.close();
    }
    // HTTP/1.0 is answered (by node:http) in HTTP/1.0 terms: the connection closes after the answer.
    const old = new Wire(server.port);
    old.send(post('user-8').replace('HTTP/1.1', 'HTTP/1.0'));
    assert.equal((await old.answer()).status, 200);
    await old.whenClosed;
  });
});

t('Connection: close, a client that reads nothing until it has sent 2,000 requests, header case', async () => {
  await withServer(async (server, hono) => {
    const closing = new Wire(server.port);
    closing.send(post('user-9', 'Connection: close\r\n'));
    const a = await closing.answer();
    assert.deepEqual({ status: a.status, body: a.body }, await expected(hono, 'user-9'));
    if (onNodeHttp) assert.equal(a.headers.connection, 'close');
    await closing.whenClosed;

    const flood = new Wire(server.port);
    flood.socket.pause();
    let all = '';
    for (let i = 0; i < 2_000; i++) all += post(`flood-${i}`).replace('Content-Type', i % 2 ? 'CONTENT-TYPE' : 'content-type').replace('Host', i % 3 ? 'HOST' : 'host');
    flood.send(all);
    await new Promise((r) => setTimeout(r, 200));
    flood.socket.resume();
    for (let i = 0; i < 2_000; i++) {
      const answer = await flood.answer();
      assert.equal(answer.status, 200);
      if (i % 500 === 0) assert.equal(answer.body, (await expected(hono, `flood-${i}`)).body);
    }
    flood.close();
  });
});

t('idle keep-alive connections and silent connections are closed; shutdown closes the connections it holds', async () => {
  // Bun.serve keeps its own idle timer (whole seconds, checked coarsely): covered by server-timeouts.
  if (onNodeHttp) await withServer(async (server) => {
    const started = Date.now();
    const idle = new Wire(server.port);
    idle.send(post('user-10'));
    assert.equal((await idle.answer()).status, 200);
    const silent = new Wire(server.port);
    const silentAnswer = silent.answer().catch(() => null);
    await idle.whenClosed;
    assert.ok(Date.now() - started < 2_000, `idle connection closed after ${Date.now() - started} ms`);
    await silent.whenClosed;
    assert.ok(Date.now() - started < 3_000, `silent connection closed after ${Date.now() - started} ms`);
    assert.equal((await silentAnswer)?.status, 408);
  }, { nodeKeepAliveTimeoutMs: 400, headersTimeoutMs: 800, idleTimeoutSeconds: 1 });

  const server = await serve({ client: client(), port: 0, hostname: '127.0.0.1', drainTimeoutMs: 1_000 });
  const open = new Wire(server.port);
  open.send(post('user-11'));
  assert.equal((await open.answer()).status, 200);
  const t0 = Date.now();
  await server.shutdown();
  await open.whenClosed;
  assert.ok(Date.now() - t0 < 2_500, `shutdown took ${Date.now() - t0} ms`);
});

t.run();
