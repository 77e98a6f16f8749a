/**
 * The disk half of a sink's overflow policy: when the memory queue is full, serialized events go to segment files
 * in a directory, one file per batch, and come back oldest first once the transport keeps up again. A segment is
 * deleted only after its batch is delivered, so a crash between the two re-delivers it (never loses it).
 * @module
 */
import type * as NodeFs from 'node:fs';
import type * as NodeOs from 'node:os';

/**
 * node:fs and node:os, loaded on first use: this module is part of the root module's graph (event tracking uses the
 * delivery queue), which must load on runtimes without them (Cloudflare Workers); there a spill reports "unavailable"
 * and the queue drops (and counts) what memory cannot hold.
 */
function builtin<T>(name: string): T {
  const m = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process?.getBuiltinModule?.(name);
  if (m === undefined || m === null) throw new Error(`${name} is not available on this runtime`);
  return m as T;
}
const fs = (): typeof NodeFs => builtin<typeof NodeFs>('node:fs');
const join = (dir: string, name: string): string => `${dir.replace(/[\\/]+$/, '')}/${name}`;

/** A batch read back from disk, with the file to delete once it is delivered. */
export interface SpilledBatch {
  lines: string[];
  file: string;
}

/** Segment files in one directory; a stable directory is adopted by the next sink that uses it. */
export class Spill {
  readonly #dir: string | null;
  readonly #maxBytes: number;
  readonly #batchSize: number;
  readonly #batchBytes: number;
  #created: string | null = null;
  /** Segment files not yet handed out, oldest first. */
  readonly #segments: { file: string; bytes: number; count: number }[] = [];
  /** Lines not yet written (fewer than a batch). */
  #tail: string[] = [];
  #tailBytes = 0;
  #bytes = 0;
  #count = 0;
  #seq = 0;
  readonly #prefix = `seg-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}-`;

  /**
   * @param dir a directory to keep segments in (created; its segments from an earlier process are adopted), null for
   *   a private temporary directory created on first use and removed when empty at close, or false to disable.
   */
  constructor(dir: string | null | false, maxBytes: number, batchSize: number, batchBytes: number) {
    this.#dir = dir === false ? null : dir;
    this.#maxBytes = dir === false ? 0 : maxBytes;
    this.#batchSize = batchSize;
    this.#batchBytes = batchBytes;
    if (dir) this.#adopt(dir);
  }

  /** Events waiting on disk or in the unwritten tail. */
  get count(): number {
    return this.#count;
  }

  /** Bytes waiting on disk or in the unwritten tail. */
  get bytes(): number {
    return this.#bytes;
  }

  /** True while anything is spilled (new events then queue behind it, keeping order). */
  get active(): boolean {
    return this.#count > 0;
  }

  /** True when the directory is the user's own (kept across restarts). */
  get persistent(): boolean {
    return this.#dir !== null;
  }

  /**
   * Keep a line on disk.
   * @returns false when the spill is disabled or full (the caller drops the event and counts it).
   */
  push(line: string): boolean {
    if (this.#bytes + line.length + 1 > this.#maxBytes) return false;
    this.#tail.push(line);
    this.#tailBytes += line.length + 1;
    this.#bytes += line.length + 1;
    this.#count++;
    if (this.#tail.length >= this.#batchSize || this.#tailBytes >= this.#batchBytes) return this.#writeTail();
    return true;
  }

  /** The oldest batch: a segment (deleted later by {@link done}) or the unwritten tail (file ''). */
  take(): SpilledBatch | null {
    const seg = this.#segments.shift();
    if (seg !== undefined) {
      let lines: string[];
      try {
        lines = fs().readFileSync(seg.file, 'utf8').split('\n').filter((l) => l.length > 0);
      } catch {
        lines = [];
      }
      this.#bytes -= seg.bytes;
      this.#count -= seg.count;
      return { lines, file: seg.file };
    }
    if (this.#tail.length === 0) return null;
    const lines = this.#tail;
    this.#tail = [];
    this.#bytes -= this.#tailBytes;
    this.#count -= lines.length;
    this.#tailBytes = 0;
    return { lines, file: '' };
  }

  /** A batch from {@link take} was delivered or dropped: delete its segment. */
  done(batch: SpilledBatch): void {
    if (batch.file !== '') fs().rmSync(batch.file, { force: true });
  }

  /** Write the tail and any lines given to a segment, so they outlive the process (a persistent spill only). */
  persist(lines: readonly string[]): boolean {
    if (this.#dir === null) return false;
    for (const line of lines) {
      this.#tail.push(line);
      this.#tailBytes += line.length + 1;
      this.#bytes += line.length + 1;
      this.#count++;
    }
    return this.#tail.length === 0 || this.#writeTail();
  }

  /** Remove the private temporary directory if nothing is left in it. */
  close(): void {
    if (this.#created !== null && this.#segments.length === 0) fs().rmSync(this.#created, { recursive: true, force: true });
  }

  #writeTail(): boolean {
    const dir = this.#directory();
    if (dir === null) return false;
    const file = join(dir, `${this.#prefix}${String(this.#seq++).padStart(8, '0')}.ndjson`);
    try {
      // Written under a temporary name and renamed, so an adopting process never reads half a segment.
      fs().writeFileSync(`${file}.tmp`, `${this.#tail.join('\n')}\n`);
      fs().renameSync(`${file}.tmp`, file);
    } catch {
      return false;
    }
    this.#segments.push({ file, bytes: this.#tailBytes, count: this.#tail.length });
    this.#tail = [];
    this.#tailBytes = 0;
    return true;
  }

  #directory(): string | null {
    if (this.#dir !== null) return this.#dir;
    try {
      this.#created ??= fs().mkdtempSync(join(builtin<typeof NodeOs>('node:os').tmpdir(), 'saltshard-spill-'));
    } catch {
      return null;
    }
    return this.#created;
  }

  /** Take over segments left by an earlier process (claimed by rename, so two sinks never take the same one). */
  #adopt(dir: string): void {
    fs().mkdirSync(dir, { recursive: true });
    for (const name of fs().readdirSync(dir).filter((n) => n.startsWith('seg-') && n.endsWith('.ndjson')).sort()) {
      const claimed = join(dir, `${this.#prefix}adopted-${name}`);
      try {
        fs().renameSync(join(dir, name), claimed);
        const bytes = fs().statSync(claimed).size;
        const text = fs().readFileSync(claimed, 'utf8');
        let count = 0;
        for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) count++;
        this.#segments.push({ file: claimed, bytes, count });
        this.#bytes += bytes;
        this.#count += count;
      } catch {
        // Claimed by another sink first.
      }
    }
  }
}
