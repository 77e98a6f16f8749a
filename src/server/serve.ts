/**
 * Serve the app on the runtime at hand: `Bun.serve` on Bun; on Node and Deno a node:net front that answers whole
 * OFREP requests itself and gives every other connection to node:http with Hono (src/server/http1.ts).
 * Slow clients are cut off on every runtime: headers must arrive within `headersTimeoutMs` (Bun: its own fixed
 * 10 s), a request body may not stall for `bodyTimeoutMs` (the app answers 408 and closes the connection), and
 * the whole request must arrive within `nodeRequestTimeoutMs` (Node, Deno) or the app's `requestTimeoutMs`
 * deadline (504, connection closed). Deno is not served by `Deno.serve` because it has no header or body
 * timeout at all (denoland/deno#3515): slow-header connections stayed open indefinitely.
 * Graceful shutdown: /readyz turns 503, after `shutdownDelayMs` the listener stops accepting, in-flight requests
 * drain (up to `drainTimeoutMs`, then the remaining connections are closed), and the client is closed.
 * @module
 * @example
 * const server = await serve({ client, port: 8016, hostname: '127.0.0.1' });
 * process.once('SIGTERM', () => void server.shutdown());
 */
import type { AddressInfo } from 'node:net';
import { type AppOptions, type ServerApp, createApp } from './app.ts';
import { fetchFastPath, nodeFastPath } from './fast-path.ts';
import { http1Front } from './http1.ts';

/** Options of {@link serve}: the app's, plus where to listen and how to stop. */
export interface ServeOptions extends AppOptions {
  /** TCP port; 0 picks a free one. Default 8016 (the OFREP providers' default). */
  port?: number;
  /** Interface to bind. Default 127.0.0.1. */
  hostname?: string;
  /** How long /readyz reports 503 before the listener closes (lets load balancers notice). Default 0. */
  shutdownDelayMs?: number;
  /** How long in-flight requests may take to finish once the listener closed. Default 10 000. */
  drainTimeoutMs?: number;
  /** Close the client at the end of shutdown. Default true. */
  closeClient?: boolean;
  /** Node and Deno: time to receive a request's headers, then the connection is closed (408). Default 10 000. */
  headersTimeoutMs?: number;
  /** Node and Deno: time to receive a whole request, then the connection is closed (408). Default 30 000. */
  nodeRequestTimeoutMs?: number;
  /** Node and Deno: keep-alive idle timeout. Default 5 000. */
  nodeKeepAliveTimeoutMs?: number;
  /** Bun only: idle connection timeout in seconds (default 30, at most 255). */
  idleTimeoutSeconds?: number;
}

/** A running server. */
export interface RunningServer {
  /** The runtime serving the app. */
  readonly runtime: 'bun' | 'deno' | 'node';
  /** The hostname listened on. */
  readonly hostname: string;
  /** The port listened on (the one picked when 0 was asked). */
  readonly port: number;
  /** `http://hostname:port`. */
  readonly url: string;
  /** The app being served. */
  readonly app: ServerApp;
  /** Graceful shutdown; idempotent (later calls return the same promise). */
  shutdown(): Promise<void>;
}

interface BunServer {
  port: number;
  stop(closeActiveConnections?: boolean): Promise<void> | void;
}
type BunGlobal = { serve(options: Record<string, unknown>): BunServer };

/** Which runtime runs this code. */
export function currentRuntime(): 'bun' | 'deno' | 'node' {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  if (g.Bun !== undefined) return 'bun';
  if (g.Deno !== undefined) return 'deno';
  return 'node';
}

/**
 * Create the app and listen.
 * @returns once the listener is bound.
 * @throws when the port cannot be bound, or for invalid options.
 */
export async function serve(options: ServeOptions): Promise<RunningServer> {
  const port = options.port ?? 8016;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError('port must be an integer from 0 to 65535');
  const hostname = options.hostname ?? '127.0.0.1';
  const shutdownDelayMs = nonNegative('shutdownDelayMs', options.shutdownDelayMs, 0);
  const drainTimeoutMs = nonNegative('drainTimeoutMs', options.drainTimeoutMs, 10_000);
  const app = createApp(options);
  const runtime = currentRuntime();

  let bound: { port: number; stopListening(): Promise<void>; afterDrain(): void; forceClose(): Promise<void> | void; closed: Promise<void> };
  if (runtime === 'bun') {
    const Bun = (globalThis as unknown as { Bun: BunGlobal }).Bun;
    // The OFREP routes are answered without Hono's router and middleware chain (src/server/fast-path.ts).
    const fast = fetchFastPath(app.core);
    const server = Bun.serve({ port, hostname, fetch: (req: Request) => fast(req) ?? app.fetch(req), idleTimeout: Math.min(255, options.idleTimeoutSeconds ?? 30), development: false });
    let closed!: Promise<void>;
    bound = {
      port: server.port,
      stopListening: async () => {
        // stop(false) closes the listener at once; its promise settles when active connections are done.
        closed = Promise.resolve(server.stop(false)).then(() => {});
      },
      afterDrain: () => {},
      forceClose: () => server.stop(true),
      get closed() {
        return closed;
      },
    };
  } else {
    const { getRequestListener } = await import('@hono/node-server');
    const { createServer } = await import('node:http');
    const fast = nodeFastPath(app.core);
    const requestTimeout = positiveMs('nodeRequestTimeoutMs', options.nodeRequestTimeoutMs, 30_000);
    const headersTimeout = Math.min(positiveMs('headersTimeoutMs', options.headersTimeoutMs, 10_000), requestTimeout);
    const keepAliveTimeout = positiveMs('nodeKeepAliveTimeoutMs', options.nodeKeepAliveTimeoutMs, 5_000);
    // node:http checks the header and request timeouts only every connectionsCheckingInterval (default 30 s,
    // so a 10 s headersTimeout took up to 40 s): check often enough that they hold to within about a second.
    const connectionsCheckingInterval = Math.max(100, Math.min(1_000, headersTimeout / 2));
    // The app reads request bodies straight from node:http's IncomingMessage (env.incoming).
    const listener = getRequestListener((req: Request, env: unknown) => app.fetch(req, env));
    const http = createServer(
      { connectionsCheckingInterval, maxHeaderSize: 16 * 1024 },
      // The OFREP routes answer straight from node:http (src/server/fast-path.ts); everything else goes to Hono.
      (req, res) => void (fast(req, res) || listener(req, res)),
    );
    http.headersTimeout = headersTimeout;
    http.requestTimeout = requestTimeout;
    http.keepAliveTimeout = keepAliveTimeout;
    // The front below accepts every connection and gives node:http the ones it does not answer alone
    // (src/server/http1.ts). On Node node:http takes them in process and never listens ('listening' starts its
    // connection tracking: its timeouts); on Deno it listens on a loopback port and they are piped to it.
    let relayPort: number | null = null;
    if (runtime === 'deno') relayPort = await listen(http, 0, '127.0.0.1');
    else http.emit('listening');
    const front = http1Front({ core: app.core, http, relayPort, headersTimeout, keepAliveTimeout });
    const server = front.server;
    const boundPort = await listen(server, port, hostname);
    let closed!: Promise<void>;
    bound = {
      port: boundPort,
      stopListening: async () => {
        closed = new Promise((resolve) => server.close(() => resolve()));
        front.closeIdle();
        // Stops node:http's connection checks (as its own close() would) and ends its idle connections.
        http.close();
      },
      // Keep-alive connections whose last request just finished.
      afterDrain: () => front.closeIdle(),
      forceClose: () => front.closeAll(),
      get closed() {
        return closed;
      },
    };
  }

  let shutdownPromise: Promise<void> | null = null;
  const shutdown = (): Promise<void> => {
    shutdownPromise ??= (async () => {
      app.beginShutdown();
      if (shutdownDelayMs > 0) await sleep(shutdownDelayMs);
      await bound.stopListening();
      const drained = await Promise.race([app.idle().then(() => true), sleep(drainTimeoutMs).then(() => false)]);
      bound.afterDrain();
      // Idle keep-alive connections are closed; wait a little for the last responses to flush, then force.
      const finished = await Promise.race([bound.closed.then(() => true), sleep(drained ? 1_000 : 0).then(() => false)]);
      if (!finished) await bound.forceClose();
      if (options.closeClient !== false) options.client.close();
    })();
    return shutdownPromise;
  };

  const shownHost = hostname.includes(':') ? `[${hostname}]` : hostname;
  return { runtime, hostname, port: bound.port, url: `http://${shownHost}:${bound.port}`, app, shutdown };
}

/** Listen on `port` at `hostname`; the bound port. */
function listen(server: import('node:net').Server, port: number, hostname: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function positiveMs(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number of milliseconds`);
  return value;
}

function nonNegative(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new RangeError(`${name} must be a non-negative number of milliseconds`);
  return value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    (t as { unref?: () => void }).unref?.();
  });
}
