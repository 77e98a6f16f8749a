// A fake Eppo config server on 127.0.0.1 for the live-client tests (reliability-plan §7.1), on node:http so it
// runs under Node, Bun and Deno. It serves GET {base}/flag-config/v1/config?apiKey=… and, per request, follows a
// programmable fault plan: a fixed fault, or a function of the request number and the request.
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import { type Socket, connect } from 'node:net';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './support.ts';

/** One request as the server saw it. */
export interface RecordedRequest {
  /** Position among all requests this server received (0-based). */
  index: number;
  /** Date.now() when the request arrived, and when its connection or response closed. */
  at: number;
  closedAt: number | null;
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  /** What the server answered (status, or 'stall' / 'reset' for responses that never completed). */
  answer: string;
}

/** What to do with one config request. */
export type Fault =
  | { kind: 'ok' } // the current config, with an ETag; 304 when If-None-Match matches
  | { kind: 'status'; status: number; retryAfter?: string } // an error status (e.g. 500, 429 + Retry-After)
  | { kind: 'stall' } // 200 headers and the first bytes of the body, then nothing until the client gives up
  | { kind: 'hang' } // accept the request and never answer
  | { kind: 'truncate' } // a well-formed 200 response whose JSON body is cut in half
  | { kind: 'reset' } // Content-Length of the whole body, half of it, then the connection is destroyed
  | { kind: 'malformed' } // 200 with `{"flags": {bad`
  | { kind: 'body'; text: string } // 200 with this body (e.g. a config with a broken flag)
  | { kind: 'slow'; ms: number } // the normal answer after a delay
  | { kind: 'redirect'; status: number; location: string }; // Location may be relative or absolute

/** A fault, or a function choosing one for the n-th config request (0-based). */
export type FaultPlan = Fault | ((n: number, req: RecordedRequest) => Fault);

export interface FakeEppo {
  /** `http://127.0.0.1:<port>/api`, to pass as baseUrl. */
  readonly baseUrl: string;
  readonly origin: string;
  readonly port: number;
  /** Every request received, config or not. */
  readonly requests: RecordedRequest[];
  /** Only the config requests (GET …/flag-config/v1/config). */
  configRequests(): RecordedRequest[];
  /** Replace the served config (a new ETag follows). */
  setConfig(text: string): void;
  readonly etag: string;
  /** The plan for the following requests; `ok` by default. */
  plan: FaultPlan;
  /** Keys answered with 200; others get 401. null (default) accepts every key. */
  acceptedKeys: Set<string> | null;
  close(): Promise<void>;
}

/** The example config with a `config-version` INTEGER flag that always returns `version`. */
export function configText(version: number, options: { brokenFlag?: string } = {}): string {
  const doc = JSON.parse(readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8')) as { flags: Record<string, unknown>; createdAt: string };
  doc.createdAt = new Date(Date.UTC(2026, 0, 1, 0, 0, version)).toISOString();
  doc.flags['config-version'] = {
    key: 'config-version',
    enabled: true,
    variationType: 'INTEGER',
    totalShards: 10000,
    variations: { v: { key: 'v', value: version } },
    allocations: [{ key: 'all', splits: [{ variationKey: 'v', shards: [] }], doLog: false }],
  };
  if (options.brokenFlag) doc.flags[options.brokenFlag] = { garbage: 1 };
  return JSON.stringify(doc);
}

/**
 * Start a fake server on 127.0.0.1, port 0.
 * @param config the config served at first.
 */
export async function startFakeEppo(config: string = configText(1)): Promise<FakeEppo> {
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let served = config;
  let etag = etagOf(config);
  let configCount = 0;

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const answer = (fault: Fault, req: IncomingMessage, res: ServerResponse, rec: RecordedRequest): void => {
    const sendJson = (status: number, body: string, extra: Record<string, string> = {}) => {
      rec.answer = String(status);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...extra });
      res.end(body);
    };
    switch (fault.kind) {
      case 'ok': {
        if (req.headers['if-none-match'] === etag) {
          rec.answer = '304';
          res.writeHead(304, { etag });
          res.end();
        } else sendJson(200, served, { etag });
        return;
      }
      case 'status':
        sendJson(fault.status, JSON.stringify({ error: `status ${fault.status}` }), fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {});
        return;
      case 'stall':
        rec.answer = 'stall';
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(served)) });
        res.write(served.slice(0, 100));
        return;
      case 'hang':
        rec.answer = 'hang';
        return;
      case 'truncate': {
        rec.answer = '200-truncated';
        const half = served.slice(0, Math.floor(served.length / 2));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(half)) });
        res.end(half);
        return;
      }
      case 'reset':
        rec.answer = 'reset';
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(served)) });
        res.write(served.slice(0, Math.floor(served.length / 2)), () => later(5, () => req.socket.destroy()));
        return;
      case 'malformed':
        sendJson(200, '{"flags": {bad');
        return;
      case 'body':
        sendJson(200, fault.text, { etag: etagOf(fault.text) });
        return;
      case 'slow':
        later(fault.ms, () => {
          if (!res.destroyed && !res.writableEnded) answer({ kind: 'ok' }, req, res, rec);
        });
        return;
      case 'redirect':
        rec.answer = String(fault.status);
        res.writeHead(fault.status, { location: fault.location, 'content-length': '0' });
        res.end();
        return;
    }
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rec: RecordedRequest = {
      index: requests.length,
      at: Date.now(),
      closedAt: null,
      method: req.method ?? '',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      headers: { ...req.headers },
      answer: '',
    };
    requests.push(rec);
    res.on('close', () => {
      rec.closedAt = Date.now();
    });
    const isConfig = req.method === 'GET' && /\/flag-config\/v1\/config$/.test(url.pathname);
    if (!isConfig) {
      rec.answer = '404';
      res.writeHead(404, { 'content-length': '0' });
      res.end();
      return;
    }
    if (fake.acceptedKeys !== null && !fake.acceptedKeys.has(rec.query.apiKey ?? '')) {
      answer({ kind: 'status', status: 401 }, req, res, rec);
      return;
    }
    const n = configCount++;
    const plan = fake.plan;
    answer(typeof plan === 'function' ? plan(n, rec) : plan, req, res, rec);
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const origin = `http://127.0.0.1:${port}`;

  const fake: FakeEppo = {
    baseUrl: `${origin}/api`,
    origin,
    port,
    requests,
    configRequests: () => requests.filter((r) => /\/flag-config\/v1\/config$/.test(r.path)),
    setConfig(text: string) {
      served = text;
      etag = etagOf(text);
    },
    get etag() {
      return etag;
    },
    plan: { kind: 'ok' },
    acceptedKeys: null,
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      await closed;
    },
  };
  return fake;
}

/** A port on 127.0.0.1 where nothing listens (connection refused). */
export async function closedPort(): Promise<number> {
  // A port below the kernel's ephemeral range (listen(0) never hands it out, so a fake server started by a
  // concurrent test cannot take it over), outside the fetch spec's "bad ports", and checked to refuse.
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => (socket.destroy(), resolve(false)));
      socket.once('error', () => resolve(true));
    });
    if (refused) return port;
  }
}

function etagOf(text: string): string {
  return `"${createHash('sha256').update(text).digest('hex').slice(0, 16)}"`;
}

// ---- Helpers shared by the live and cache tests ----

/** What a getter loop saw. */
export interface LoopReport {
  calls: number;
  thrown: number;
  /** Each change of the `config-version` value: [Date.now(), value]; -1 is the default (no config). */
  changes: Array<[number, number]>;
  /** The `config-version` value seen last. */
  readonly current: number;
  /** When `value` was first seen, or null. */
  firstSeen(value: number): number | null;
  /** Values seen in [from, to] (the value in force at `from` included). */
  valuesBetween(from: number, to: number): number[];
  /**
   * Event-loop stalls in [from, to]: the sum of tick gaps above 10 ms. A stalled process (a loaded CI machine)
   * cannot poll either, so timing assertions add this to their margin.
   */
  stalledMs(from: number, to: number): number;
  stop(): void;
}

interface Getters {
  getIntegerAssignment(f: string, s: string, a: Record<string, unknown>, d: number): number;
  getStringAssignment(f: string, s: string, a: Record<string, unknown>, d: string): string;
  getBooleanAssignment(f: string, s: string, a: Record<string, unknown>, d: boolean): boolean;
  getNumericAssignment(f: string, s: string, a: Record<string, unknown>, d: number): number;
  getJSONAssignment(f: string, s: string, a: Record<string, unknown>, d: unknown): unknown;
  getStringAssignmentDetails(f: string, s: string, a: Record<string, unknown>, d: string): unknown;
}

/**
 * Run every getter type in a loop (every millisecond, 10 subjects a tick) until stop(); count throws and record
 * when the `config-version` flag's value changes.
 */
export function getterLoop(client: Getters): LoopReport {
  let current = Number.NaN;
  const report: LoopReport = {
    calls: 0,
    thrown: 0,
    changes: [],
    get current() {
      return current;
    },
    firstSeen: (value) => report.changes.find(([, v]) => v === value)?.[0] ?? null,
    valuesBetween(from, to) {
      let before: number | null = null;
      const seen = new Set<number>();
      for (const [at, v] of report.changes) {
        if (at <= from) before = v;
        else if (at <= to) seen.add(v);
      }
      if (before !== null) seen.add(before);
      return [...seen];
    },
    stalledMs: (from, to) => stalls.filter(([at]) => at >= from && at <= to).reduce((sum, [, gap]) => sum + gap, 0),
    stop: () => clearInterval(timer),
  };
  const stalls: Array<[number, number]> = [];
  let lastTick = Date.now();
  const tick = () => {
    const now = Date.now();
    if (now - lastTick > 10) stalls.push([now, now - lastTick]);
    lastTick = now;
    for (let i = 0; i < 10; i++) {
      const subject = `user-${i}`;
      const attrs = { country: 'US', appVersion: '2.5.0', sessions: i * 30, email: `${subject}@example.org` };
      try {
        const v = client.getIntegerAssignment('config-version', subject, attrs, -1);
        client.getStringAssignment('checkout-redesign', subject, attrs, 'none');
        client.getBooleanAssignment('new-search', subject, attrs, false);
        client.getIntegerAssignment('results-per-page', subject, attrs, 0);
        client.getNumericAssignment('price-multiplier', subject, attrs, 0);
        client.getJSONAssignment('onboarding-copy', subject, attrs, null);
        client.getStringAssignmentDetails('legacy-banner', subject, attrs, 'x');
        report.calls += 7;
        if (v !== current) {
          current = v;
          report.changes.push([Date.now(), v]);
        }
      } catch {
        report.thrown++;
      }
    }
  };
  tick();
  const timer = setInterval(tick, 1);
  return report;
}

/** Resolve once `check()` is true (polled every 2 ms); reject after `timeoutMs`. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<number> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
  return Date.now();
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A logger that keeps every call at every level. */
export function captureLogger(): { logger: { error(...a: unknown[]): void; warn(...a: unknown[]): void; info(...a: unknown[]): void; debug(...a: unknown[]): void }; calls: Array<{ level: string; args: unknown[] }>; text(level?: string): string[] } {
  const calls: Array<{ level: string; args: unknown[] }> = [];
  const at = (level: string) => (...args: unknown[]) => void calls.push({ level, args });
  return {
    logger: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') },
    calls,
    text: (level?: string) => calls.filter((c) => level === undefined || c.level === level).map((c) => c.args.map(String).join(' ')),
  };
}
