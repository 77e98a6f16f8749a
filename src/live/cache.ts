/**
 * The persistent config cache: a small get/set interface, and a file implementation whose writes are atomic
 * (temp file in the same directory, fsync, rename, directory fsync) so a crash leaves the old file or the new
 * one, never a torn one (reliability-plan §6). The file holds an envelope with a checksum and a hash of the SDK
 * key, so a corrupted, foreign or other-key file is ignored with a warning.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { describeError } from '../errors.ts';
import type { Logger } from '../events/logger.ts';
import { SDK_VERSION } from '../version.ts';

/** Where a client keeps its last good config between runs. Methods may be sync or async. */
export interface PersistentCache {
  /** The stored UFC JSON text, or null. */
  get(): string | null | Promise<string | null>;
  /** Store UFC JSON text. */
  set(configText: string): void | Promise<void>;
  /** Where the cache lives (a file path), named in warnings. */
  readonly location?: string;
}

const SCHEMA_VERSION = 1;
const encoder = new TextEncoder();

/** First 16 hex digits of sha256(text): identifies a key or a payload without revealing it. */
export function shortHash(text: string): string {
  return bytesToHex(sha256(encoder.encode(text))).slice(0, 16);
}

interface Envelope {
  schemaVersion: number;
  sdkVersion: string;
  keyHash: string;
  savedAt: string;
  sha256: string;
  payload: string;
}

/**
 * A file-backed cache.
 * @param path the cache file; missing parent folders are created (mode 0700) on the first write.
 * @param apiKey the SDK key, stored only as a hash, so a file written for another key is not used.
 * @param logger where warnings go (never with file contents).
 * @example const cache = fileCache('/var/cache/app/flags.json', apiKey, consoleLogger);
 */
export function fileCache(path: string, apiKey: string, logger: Logger): PersistentCache {
  const keyHash = shortHash(apiKey);
  let cleaned = false;
  return {
    location: path,
    async get() {
      const fs = await import('node:fs/promises');
      if (!cleaned) {
        cleaned = true;
        await removeStaleTemps(fs, path);
      }
      let text: string;
      try {
        text = await fs.readFile(path, 'utf8');
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') logger.warn(`Config cache ${path} not readable: ${describeError(err)}; ignoring it`);
        return null;
      }
      const why = invalidReason(text, keyHash);
      if (why) {
        logger.warn(`Config cache ${path} ignored: ${why}`);
        return null;
      }
      return (JSON.parse(text) as Envelope).payload;
    },
    async set(configText: string) {
      const fs = await import('node:fs/promises');
      const envelope: Envelope = {
        schemaVersion: SCHEMA_VERSION,
        sdkVersion: SDK_VERSION,
        keyHash,
        savedAt: new Date().toISOString(),
        sha256: bytesToHex(sha256(encoder.encode(configText))),
        payload: configText,
      };
      const { dir } = tempPrefix(path);
      // Only the folders that do not exist yet are created, private to this user (the file itself is 0600).
      try {
        await fs.mkdir(dir, { recursive: true, mode: 0o700 });
      } catch (err) {
        // mkdir says EEXIST when a file stands where a folder of the path should be.
        if ((err as { code?: string }).code === 'EEXIST') throw Object.assign(new Error(`${dir}: a parent of the path is a file`), { code: 'ENOTDIR' });
        throw err;
      }
      await writeAtomic(fs, path, JSON.stringify(envelope));
    },
  };
}

function invalidReason(text: string, keyHash: string): string | null {
  let e: Partial<Envelope>;
  try {
    e = JSON.parse(text) as Partial<Envelope>;
  } catch {
    return 'not JSON (corrupted)';
  }
  if (typeof e !== 'object' || e === null || e.schemaVersion !== SCHEMA_VERSION || typeof e.payload !== 'string') return 'not a saltshard cache file';
  if (e.keyHash !== keyHash) return 'written for another SDK key';
  if (e.sha256 !== bytesToHex(sha256(encoder.encode(e.payload)))) return 'checksum mismatch (corrupted)';
  return null;
}

/** The part of `node:fs/promises` the cache uses (declared here so the package's types need no @types/node). */
export interface CacheFs {
  open(path: string, flags: string, mode?: number): Promise<{ writeFile(data: string, encoding: 'utf8'): Promise<void>; sync(): Promise<void>; close(): Promise<void> }>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { force: boolean }): Promise<void>;
  readdir(path: string): Promise<string[]>;
  mkdir(path: string, options: { recursive: true; mode: number }): Promise<string | undefined>;
}
type Fs = CacheFs;

function tempPrefix(path: string): { dir: string; prefix: string } {
  const slash = Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\'));
  return { dir: slash < 0 ? '.' : path.slice(0, slash) || '/', prefix: `.${path.slice(slash + 1)}.` };
}

/** Write via a temp file in the same directory, fsync it, rename over the target, fsync the directory. */
export async function writeAtomic(fs: Fs, path: string, text: string): Promise<void> {
  const { dir, prefix } = tempPrefix(path);
  // Another cache starting on the same path may remove our temp file as stale before the rename (ENOENT):
  // write it again, a few times at most.
  for (let attempt = 1; ; attempt++) {
    const temp = `${dir}/${prefix}${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}.tmp`;
    const handle = await fs.open(temp, 'w', 0o600);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.rename(temp, path);
      break;
    } catch (err) {
      await fs.rm(temp, { force: true });
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw err;
    }
  }
  try {
    const d = await fs.open(dir, 'r');
    try {
      await d.sync();
    } finally {
      await d.close();
    }
  } catch {
    // Directory fsync is not supported everywhere (e.g. some platforms refuse opening a directory).
  }
}

async function removeStaleTemps(fs: Fs, path: string): Promise<void> {
  const { dir, prefix } = tempPrefix(path);
  try {
    for (const name of await fs.readdir(dir)) {
      if (name.startsWith(prefix) && name.endsWith('.tmp')) await fs.rm(`${dir}/${name}`, { force: true });
    }
  } catch {
    // An unreadable directory only means there is nothing we can clean.
  }
}
