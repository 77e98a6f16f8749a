/**
 * `saltshard serve`: the HTTP server (OFREP, batch assignment, Eppo config relay, health, metrics) on the
 * runtime at hand. The server modules (and hono) are loaded only when this command runs.
 * @module
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';
import type { SaltshardClient } from '../client.ts';
import type { Logger } from '../events/logger.ts';
import { type CliIO, EXIT, describeError, parseCommand, usageError } from './common.ts';

/** Usage text of the command. */
export const SERVE_USAGE = `  saltshard serve [--port 8016] [--host 127.0.0.1] [--config FLAGS.json | --api-key KEY [--cache FILE]]
                  [--token TOKEN] [--cors-origin ORIGIN ...] [--quiet]

  Serves flags over HTTP: OFREP (POST /ofrep/v1/evaluate/flags[/{key}]), batch assignment
  (POST /v1/assign/batch), an Eppo-compatible config relay (GET /api/flag-config/v1/config),
  /healthz, /readyz, /metrics and /openapi.json. Config changes are pushed to clients (SSE GET /v1/config/stream,
  long-poll GET /v1/config/poll): init({ configSource: { relay: URL, mode: 'stream' } }).
  Config: --config FILE (reloaded when it changes), or --api-key KEY (env SALTSHARD_API_KEY) to poll Eppo
  (--base-url URL, --poll-interval-ms MS, --cache FILE keeps the last good config between runs);
  with neither, the bundled example config.
  --token TOKEN (env SALTSHARD_TOKEN or SALTSHARD_SERVER_TOKEN; prefer the variable) requires "Authorization: Bearer TOKEN"
  on OFREP, batch and relay requests. --cors-origin allows a browser origin (repeatable; none by default).
  Limits: --batch-body-limit BYTES (1048576), --max-batch N subjects x flags (10000).
  --shutdown-delay-ms MS: on SIGTERM, /readyz answers 503 this long before the listener closes (0).
  One JSON access-log line per request on standard output (--quiet turns it off); warnings on stderr.`;

type Values = {
  port?: string; host?: string; config?: string; 'api-key'?: string; 'base-url'?: string; 'poll-interval-ms'?: string; cache?: string;
  token?: string; 'cors-origin'?: string[]; 'batch-body-limit'?: string; 'max-batch'?: string; 'shutdown-delay-ms'?: string; quiet?: boolean; help?: boolean;
};

/**
 * Run `serve` until SIGINT or SIGTERM, then shut down gracefully.
 * @returns the exit code.
 */
export async function serveCommand(args: readonly string[], io: CliIO): Promise<number> {
  const values = parseCommand<Values>(args, {
    port: { type: 'string' }, host: { type: 'string' }, config: { type: 'string' }, 'api-key': { type: 'string' }, 'base-url': { type: 'string' },
    'poll-interval-ms': { type: 'string' }, cache: { type: 'string' }, token: { type: 'string' }, 'cors-origin': { type: 'string', multiple: true },
    'batch-body-limit': { type: 'string' }, 'max-batch': { type: 'string' }, 'shutdown-delay-ms': { type: 'string' }, quiet: { type: 'boolean' },
  }, SERVE_USAGE, io);
  if (typeof values === 'number') return values;
  const num = (name: keyof Values, min: number, max: number): number | undefined | string => {
    const raw = values[name] as string | undefined;
    if (raw === undefined) return undefined;
    const n = Number(raw);
    return Number.isInteger(n) && n >= min && n <= max ? n : `--${name} must be an integer from ${min} to ${max}`;
  };
  const port = num('port', 0, 65535);
  const pollingIntervalMs = num('poll-interval-ms', 100, 86_400_000);
  const batchBodyLimit = num('batch-body-limit', 1024, 256 * 1024 * 1024);
  const maxBatch = num('max-batch', 1, 10_000_000);
  const shutdownDelayMs = num('shutdown-delay-ms', 0, 600_000);
  for (const v of [port, pollingIntervalMs, batchBodyLimit, maxBatch, shutdownDelayMs]) if (typeof v === 'string') return usageError(io, v);
  // SALTSHARD_API_KEY and SALTSHARD_TOKEN come through parseCommand; SALTSHARD_SERVER_TOKEN is the older name.
  const apiKey = values['api-key'];
  const token = values.token ?? ((io.env ?? process.env).SALTSHARD_SERVER_TOKEN || undefined);
  if (apiKey !== undefined && values.config !== undefined) return usageError(io, '--config and --api-key are exclusive: serve a local file or poll Eppo');
  if (values.cache !== undefined && apiKey === undefined) return usageError(io, '--cache needs --api-key (it keeps the last config fetched from Eppo)');
  const origins = values['cors-origin'] ?? [];
  if (origins.some((o) => o === '*' || !/^https?:\/\/[^/\s]+$/.test(o))) return usageError(io, '--cors-origin takes an explicit origin such as https://app.example.com (never *)');

  const logger: Logger = {
    error: (...a) => io.stderr.write(`saltshard: ${a.map(String).join(' ')}\n`),
    warn: (...a) => io.stderr.write(`saltshard: ${a.map(String).join(' ')}\n`),
    debug: () => {},
  };
  // Without `info` the server builds no access-log line at all (--quiet).
  if (!values.quiet) logger.info = (line) => io.stdout.write(`${String(line)}\n`);
  const noExposures = { logAssignment: () => {} };

  let client: SaltshardClient;
  let source: string;
  let stopWatching = (): void => {};
  try {
    const mod = await import('../mod.ts');
    if (apiKey !== undefined) {
      client = mod.createClient({
        apiKey, baseUrl: values['base-url'], pollingIntervalMs: pollingIntervalMs as number | undefined, persistentCache: values.cache,
        logger, assignmentLogger: noExposures, pollAfterFailedInitialization: true,
      });
      source = `Eppo config${values['base-url'] ? ` from ${values['base-url']}` : ''}, polled every ${Math.round(((pollingIntervalMs as number | undefined) ?? 30_000) / 1000)} s`;
    } else {
      const path = values.config ?? exampleConfigPath();
      client = mod.offlineInit({ flagsConfiguration: readFileSync(path, 'utf8'), logger, assignmentLogger: noExposures });
      if (values.config !== undefined) {
        const { watchConfigFile } = await import('../server/file-source.ts');
        const watcher = watchConfigFile(client, path, { logger });
        stopWatching = () => watcher.stop();
        source = `${path} (reloaded on change)`;
      } else {
        source = 'the bundled example config (use --config or --api-key for your own flags)';
      }
    }
  } catch (err) {
    io.stderr.write(`saltshard: cannot load the config${values.config !== undefined ? ` ${values.config}` : ''}: ${describeError(err)}\n`);
    return EXIT.CONFIG;
  }

  let server: import('../server/serve.ts').RunningServer;
  try {
    const { serve } = await import('../server/serve.ts');
    server = await serve({
      client, port: (port as number | undefined) ?? 8016, hostname: values.host ?? '127.0.0.1', token: token ?? null, corsOrigins: origins, logger,
      pollingIntervalMs: pollingIntervalMs as number | undefined, batchBodyLimit: batchBodyLimit as number | undefined,
      maxBatchEvaluations: maxBatch as number | undefined, shutdownDelayMs: shutdownDelayMs as number | undefined,
    });
  } catch (err) {
    client.close();
    stopWatching();
    const code = (err as NodeJS.ErrnoException).code;
    io.stderr.write(`saltshard: cannot serve: ${code === 'ERR_MODULE_NOT_FOUND' ? 'install the optional peers hono and @hono/node-server' : describeError(err)}\n`);
    return EXIT.CONFIG;
  }
  io.stderr.write(`saltshard: serving ${source} on ${server.url} (${server.runtime})${token ? ', token required' : ''}\n`);

  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  io.stderr.write('saltshard: shutting down (draining requests in flight)\n');
  stopWatching();
  await server.shutdown();
  io.stderr.write('saltshard: stopped\n');
  return EXIT.OK;
}

/** examples/flags.json of this package, from src/cli/ (Bun, Deno) or dist/src/cli/ (Node). */
function exampleConfigPath(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'examples', 'flags.json');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new Error('the bundled examples/flags.json was not found');
}
