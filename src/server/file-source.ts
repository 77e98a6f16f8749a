/**
 * Keeps a client on a local UFC file: polls its mtime, size and ctime (portable across Bun, Deno and Node) and
 * loads it again when they change; where fs.watch works it also checks at once on a change notice, so a pushed
 * change reaches relay clients in well under the polling interval. A file that is missing or invalid keeps the last good
 * config, with one warning per distinct problem.
 * @module
 */
import { type FSWatcher, promises as fsp, watch } from 'node:fs';
import type { SaltshardClient } from '../client.ts';
import type { Logger } from '../events/logger.ts';
import { safeLogger } from '../events/sandbox.ts';

/** A running file watcher. */
export interface FileSource {
  /** Check the file now (also what the timer does); resolves true when a new config was loaded. */
  check(): Promise<boolean>;
  stop(): void;
  /** Successful loads after the first, and the last problem (null once a load succeeds). */
  readonly reloads: number;
  readonly lastError: string | null;
}

/**
 * Watch `path` and load it into `client` when it changes. The caller loads it once first.
 * @param options `intervalMs` between checks (default 1 000); `logger` for warnings.
 */
export function watchConfigFile(client: SaltshardClient, path: string, options: { intervalMs?: number; logger?: Logger } = {}): FileSource {
  const intervalMs = options.intervalMs ?? 1_000;
  const logger = safeLogger(options.logger);
  let signature: string | null = null;
  let busy = false;
  let reloads = 0;
  let lastError: string | null = null;
  const started = fsp.stat(path).then((s) => void (signature = sig(s)), () => {});

  const check = async (): Promise<boolean> => {
    await started;
    if (busy) return false;
    busy = true;
    try {
      const s = await fsp.stat(path);
      const next = sig(s);
      if (next === signature) return false;
      const text = await fsp.readFile(path, 'utf8');
      client.setConfiguration(text);
      signature = next;
      reloads++;
      lastError = null;
      logger.info!(JSON.stringify({ time: new Date().toISOString(), level: 'info', msg: 'config reloaded', flags: client.getFlagKeys().length }));
      return true;
    } catch (err) {
      const message = `config file ${path} not reloaded: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; keeping the last good config`;
      if (message !== lastError) logger.warn(message);
      lastError = message;
      return false;
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void check(), intervalMs);
  (timer as { unref?: () => void }).unref?.();
  let watcher: FSWatcher | null = null;
  try {
    // A notice comes as soon as a write starts: check a little later, once per burst of notices (an unreadable
    // file would keep the last good config anyway, and the next notice or tick retry).
    let pending: ReturnType<typeof setTimeout> | null = null;
    watcher = watch(path, { persistent: false }, () => {
      pending ??= setTimeout(() => {
        pending = null;
        void check();
      }, 30);
    });
    watcher.on('error', () => watcher?.close());
  } catch {
    // No notifications here (some file systems, runtimes): the timer alone.
  }
  return {
    check,
    stop: () => {
      clearInterval(timer);
      watcher?.close();
    },
    get reloads() {
      return reloads;
    },
    get lastError() {
      return lastError;
    },
  };
}

function sig(s: { mtimeMs: number; ctimeMs: number; size: number }): string {
  return `${s.mtimeMs}:${s.ctimeMs}:${s.size}`;
}
