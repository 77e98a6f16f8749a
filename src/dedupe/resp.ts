/**
 * A small Redis client over node:net (Node, Bun and Deno; no dependency): RESP2 commands, pipelined (every command
 * issued in one tick goes out in one write), replies matched in order. It never waits for a connection: while
 * disconnected a command fails at once and a reconnect is tried in the background with backoff; a command
 * unanswered after `timeoutMs` resolves as a timeout (its reply, if it comes, is discarded in order).
 * @module
 */
import { Buffer } from 'node:buffer';
import { type Socket, connect } from 'node:net';

/** A reply: string (simple or bulk), number, null, an array, or an Error for `-ERR`. */
export type RespValue = string | number | null | Error | RespValue[];

/** What a command resolves with: the reply, or why there is none. */
export type CommandResult = { ok: true; value: RespValue } | { ok: false; reason: 'timeout' | 'disconnected' | 'overloaded' };

/** Options of {@link RespClient}. */
export interface RespOptions {
  /** Redis host; default 127.0.0.1. */
  host?: string;
  /** Redis port; default 6379. */
  port?: number;
  /** Sent as AUTH (with `username` when given) after each connect. */
  password?: string;
  /** ACL user name sent with the password. */
  username?: string;
  /** A command unanswered for this long resolves `{ ok: false, reason: 'timeout' }`. Default 50 ms. */
  timeoutMs?: number;
  /** Commands waiting for replies before new ones fail as 'overloaded'. Default 10 000. */
  maxPending?: number;
  /** Told of connection state changes (diagnostics). */
  onState?: (state: 'connected' | 'disconnected', detail: string) => void;
}

interface Pending {
  resolve: (r: CommandResult) => void;
  timer: ReturnType<typeof setTimeout> | null;
  done: boolean;
}

/** One connection to one Redis server, reconnecting by itself. */
export class RespClient {
  readonly #host: string;
  readonly #port: number;
  readonly #timeoutMs: number;
  readonly #maxPending: number;
  readonly #options: RespOptions;
  #socket: Socket | null = null;
  #connected = false;
  #connecting = false;
  #closed = false;
  #retries = 0;
  #retryTimer: ReturnType<typeof setTimeout> | null = null;
  readonly #pending: Pending[] = [];
  #outgoing: string[] = [];
  #flushScheduled = false;
  #buffer: Buffer = Buffer.alloc(0);
  /** Counters for metrics and tests. */
  readonly counters = { commands: 0, replies: 0, timeouts: 0, disconnected: 0, overloaded: 0, connects: 0 };

  constructor(options: RespOptions = {}) {
    this.#options = options;
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? 6379;
    this.#timeoutMs = options.timeoutMs ?? 50;
    this.#maxPending = options.maxPending ?? 10_000;
    this.#connect();
  }

  /** True while a connection is up. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Send one command; never rejects. */
  command(args: readonly (string | number)[]): Promise<CommandResult> {
    this.counters.commands++;
    if (!this.#connected) {
      this.counters.disconnected++;
      return Promise.resolve({ ok: false, reason: 'disconnected' });
    }
    if (this.#pending.length >= this.#maxPending) {
      this.counters.overloaded++;
      return Promise.resolve({ ok: false, reason: 'overloaded' });
    }
    return new Promise((resolve) => {
      const p: Pending = { resolve, timer: null, done: false };
      p.timer = setTimeout(() => {
        // Timers run before I/O in an event-loop turn: after a long synchronous stretch the reply may already be
        // waiting in the socket. setImmediate runs after this turn's I/O, so such a reply still counts.
        setImmediate(() => {
          if (p.done) return;
          p.done = true;
          this.counters.timeouts++;
          resolve({ ok: false, reason: 'timeout' });
        });
      }, this.#timeoutMs);
      this.#pending.push(p);
      this.#outgoing.push(encode(args));
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        queueMicrotask(() => this.#flush());
      }
    });
  }

  /** Close the connection; pending commands resolve 'disconnected'. */
  close(): void {
    this.#closed = true;
    if (this.#retryTimer !== null) clearTimeout(this.#retryTimer);
    this.#socket?.destroy();
    this.#fail();
  }

  #flush(): void {
    this.#flushScheduled = false;
    if (this.#outgoing.length === 0) return;
    const data = this.#outgoing.join('');
    this.#outgoing = [];
    this.#socket?.write(data);
  }

  #connect(): void {
    if (this.#closed || this.#connecting) return;
    this.#connecting = true;
    const socket = connect({ host: this.#host, port: this.#port });
    socket.setNoDelay(true);
    this.#socket = socket;
    socket.on('connect', () => {
      // Again once connected: Deno applies it only to an open socket (without it, small writes wait ~40 ms).
      socket.setNoDelay(true);
      this.#connecting = false;
      this.#connected = true;
      this.#retries = 0;
      this.counters.connects++;
      (socket as { unref?: () => void }).unref?.();
      if (this.#options.password !== undefined) {
        const auth = this.#options.username !== undefined ? ['AUTH', this.#options.username, this.#options.password] : ['AUTH', this.#options.password];
        void this.command(auth);
      }
      this.#state('connected', `${this.#host}:${this.#port}`);
    });
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.#connecting = false;
      const was = this.#connected;
      this.#connected = false;
      this.#socket = null;
      this.#buffer = Buffer.alloc(0);
      this.#fail();
      if (was) this.#state('disconnected', `${this.#host}:${this.#port}`);
      if (this.#closed) return;
      // 50 ms, doubling to 2 s, with jitter.
      const delay = Math.min(2_000, 50 * 2 ** Math.min(this.#retries++, 6)) * (0.5 + Math.random() / 2);
      this.#retryTimer = setTimeout(() => {
        this.#retryTimer = null;
        this.#connect();
      }, delay);
      (this.#retryTimer as { unref?: () => void }).unref?.();
    });
    (socket as { unref?: () => void }).unref?.();
  }

  #state(state: 'connected' | 'disconnected', detail: string): void {
    try {
      this.#options.onState?.(state, detail);
    } catch {
      // Diagnostics only.
    }
  }

  /** Every command waiting for a reply resolves 'disconnected' (its reply can no longer come). */
  #fail(): void {
    this.#outgoing = [];
    for (const p of this.#pending.splice(0)) {
      if (p.timer !== null) clearTimeout(p.timer);
      if (!p.done) {
        p.done = true;
        this.counters.disconnected++;
        p.resolve({ ok: false, reason: 'disconnected' });
      }
    }
  }

  #read(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    let offset = 0;
    for (;;) {
      let parsed: ReturnType<typeof parse>;
      try {
        parsed = parse(this.#buffer, offset);
      } catch {
        // Not Redis speaking: drop the connection (pending commands resolve 'disconnected'), reconnect later.
        this.#socket?.destroy();
        return;
      }
      if (parsed === null) break;
      offset = parsed.next;
      this.counters.replies++;
      const p = this.#pending.shift();
      if (p === undefined) continue;
      if (p.timer !== null) clearTimeout(p.timer);
      if (!p.done) {
        p.done = true;
        p.resolve({ ok: true, value: parsed.value });
      }
    }
    this.#buffer = offset === this.#buffer.length ? Buffer.alloc(0) : this.#buffer.subarray(offset);
  }
}

/** A command as a RESP array of bulk strings. */
export function encode(args: readonly (string | number)[]): string {
  let out = `*${args.length}\r\n`;
  for (const a of args) {
    const s = String(a);
    out += `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
  }
  return out;
}

/** The bytes {@link parse} reads (a Node `Buffer`; declared here so the types need no `@types/node`). */
export interface RespBytes {
  readonly length: number;
  readonly [index: number]: number;
  indexOf(text: string, from: number): number;
  toString(encoding: 'utf8', start: number, end: number): string;
}

/** One reply from `buf` at `at`, or null when it is not complete yet. */
export function parse(buf: RespBytes, at: number): { value: RespValue; next: number } | null {
  if (at >= buf.length) return null;
  const eol = buf.indexOf('\r\n', at);
  if (eol === -1) return null;
  const type = String.fromCharCode(buf[at]);
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (type) {
    case '+':
      return { value: line, next };
    case '-':
      return { value: new Error(line), next };
    case ':':
      return { value: Number(line), next };
    case '$': {
      const n = Number(line);
      if (n < 0) return { value: null, next };
      if (buf.length < next + n + 2) return null;
      return { value: buf.toString('utf8', next, next + n), next: next + n + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, next };
      const items: RespValue[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const item = parse(buf, pos);
        if (item === null) return null;
        items.push(item.value);
        pos = item.next;
      }
      return { value: items, next: pos };
    }
    default:
      throw new Error(`unexpected RESP type byte ${JSON.stringify(type)}`);
  }
}
