/**
 * Batch evaluation: many subjects × many flags. Subject keys are UTF-8 encoded once into one arena; each distinct
 * (salt, totalShards) is hashed for all subjects in one WASM call, the first time any subject needs it; rules run
 * in the reference evaluator, so a batch answers exactly what the getters answer. Results are compact: one small
 * outcome index per (subject, flag) into a per-flag table, decoded into values only when read.
 * @module
 */
import type { FlagEvaluationCode, VariationType } from '../errors.ts';
import type { BrokenFlag, CompiledFlag } from '../config/compile.ts';
import type { ShardKernel } from '../wasm/kernel.ts';
import { type Attributes, type Evaluation, evaluateFlag } from './reference.ts';

/** One subject of a batch. */
export interface BatchSubject {
  subjectKey: string;
  subjectAttributes?: Attributes | null;
}

/** A row of a batch, as the CLI writes it. */
export interface AssignmentRow {
  subjectKey: string;
  flagKey: string;
  variationType: VariationType | null;
  variationKey: string | null;
  value: unknown;
  allocationKey: string | null;
  reason: FlagEvaluationCode;
  doLog: boolean;
}

/** One distinct outcome of a flag. */
interface OutcomeEntry {
  readonly code: FlagEvaluationCode;
  readonly variationKey: string | null;
  readonly allocationKey: string | null;
  /** The raw variation value for MATCH (JSON text for JSON flags), else undefined. */
  readonly raw: string | number | boolean | undefined;
  readonly doLog: boolean;
}

/** The outcome of a batch; read cells by subject index `i` and flag index `j`. */
export class BatchResult {
  readonly subjectKeys: readonly string[];
  readonly flagKeys: readonly string[];
  readonly #types: readonly (VariationType | null)[];
  readonly #cells: Uint16Array;
  readonly #tables: readonly OutcomeEntry[][];

  constructor(subjectKeys: readonly string[], flagKeys: readonly string[], types: readonly (VariationType | null)[], cells: Uint16Array, tables: OutcomeEntry[][]) {
    this.subjectKeys = subjectKeys;
    this.flagKeys = flagKeys;
    this.#types = types;
    this.#cells = cells;
    this.#tables = tables;
  }

  #entry(i: number, j: number): OutcomeEntry {
    return this.#tables[j][this.#cells[i * this.flagKeys.length + j]];
  }

  /**
   * Which distinct outcome of flag `j` subject `i` got (an index local to this batch): cells of flag `j` with the
   * same index have equal rows apart from `subjectKey`, so writers can format each outcome once per batch.
   */
  outcomeIndex(i: number, j: number): number {
    return this.#cells[i * this.flagKeys.length + j];
  }

  /** The evaluation code of subject `i` for flag `j`. */
  code(i: number, j: number): FlagEvaluationCode {
    return this.#entry(i, j).code;
  }

  /** The typed value (JSON parsed, a fresh copy) when the code is MATCH, else null. */
  value(i: number, j: number): unknown {
    const e = this.#entry(i, j);
    if (e.code !== 'MATCH' || e.raw === undefined) return null;
    return this.#types[j] === 'JSON' ? JSON.parse(e.raw as string) : e.raw;
  }

  /** The full row for subject `i` and flag `j`. */
  row(i: number, j: number): AssignmentRow {
    const e = this.#entry(i, j);
    return {
      subjectKey: this.subjectKeys[i],
      flagKey: this.flagKeys[j],
      variationType: this.#types[j],
      variationKey: e.variationKey,
      value: this.value(i, j),
      allocationKey: e.allocationKey,
      reason: e.code,
      doLog: e.doLog,
    };
  }

  /** Every row, subjects in input order, flags in the order given. */
  *rows(): IterableIterator<AssignmentRow> {
    for (let i = 0; i < this.subjectKeys.length; i++) for (let j = 0; j < this.flagKeys.length; j++) yield this.row(i, j);
  }
}

/** What the batch needs from the client. */
export interface BatchContext {
  kernel: ShardKernel;
  nowMs: number;
  obfuscated: boolean;
  /** The flag entry for a requested key, or undefined. */
  lookup(flagKey: string): CompiledFlag | BrokenFlag | undefined;
  /** Called for each cell whose evaluation is due an exposure event. */
  onLog?(flagKey: string, subjectKey: string, attributes: Attributes, flag: CompiledFlag, e: Evaluation): void;
}

const EMPTY: Attributes = Object.freeze({});
const CODE_ID: Readonly<Record<FlagEvaluationCode, number>> = {
  MATCH: 1, ASSIGNMENT_ERROR: 2, DEFAULT_ALLOCATION_NULL: 3, FLAG_UNRECOGNIZED_OR_DISABLED: 4, TYPE_MISMATCH: 5, NO_ACTIONS_SUPPLIED_FOR_BANDIT: 6, BANDIT_ERROR: 7,
};

/**
 * Evaluate every flag for every subject.
 * @param subjects subjects with string keys (others are answered ASSIGNMENT_ERROR, as the getters do).
 * @param flagKeys flags to evaluate, in output order.
 */
export function evaluateBatch(subjects: readonly BatchSubject[], flagKeys: readonly string[], ctx: BatchContext): BatchResult {
  const n = subjects.length;
  const keys = subjects.map((s) => (typeof s?.subjectKey === 'string' ? s.subjectKey : ''));
  const shards = new BatchShards(ctx.kernel, keys);
  const cells = new Uint16Array(n * flagKeys.length);
  const tables: OutcomeEntry[][] = [];
  const types: (VariationType | null)[] = [];
  flagKeys.forEach((flagKey, j) => {
    const table: OutcomeEntry[] = [];
    // Outcomes are told apart by (code, allocation, split), packed in one number: no string per cell.
    const index = new Map<number, number>();
    const intern = (id: number, make: () => OutcomeEntry): number => {
      let k = index.get(id);
      if (k === undefined) {
        k = table.push(make()) - 1;
        if (k > 0xffff) throw new RangeError(`flag "${flagKey}" has more than 65,536 distinct outcomes in one batch`);
        index.set(id, k);
      }
      return k;
    };
    const entry = typeof flagKey === 'string' ? ctx.lookup(flagKey) : undefined;
    types.push(entry?.kind === 'flag' ? entry.variationType : null);
    const constant = (code: FlagEvaluationCode) => intern(CODE_ID[code], () => ({ code, variationKey: null, allocationKey: null, raw: undefined, doLog: false }));
    for (let i = 0; i < n; i++) {
      const s = subjects[i];
      const attrs = s?.subjectAttributes;
      let k: number;
      if (keys[i] === '' || (attrs != null && typeof attrs !== 'object')) k = constant('ASSIGNMENT_ERROR');
      else if (entry === undefined) k = constant('FLAG_UNRECOGNIZED_OR_DISABLED');
      else if (entry.kind === 'broken') k = constant('ASSIGNMENT_ERROR');
      else if (!entry.enabled) k = constant('FLAG_UNRECOGNIZED_OR_DISABLED');
      else {
        shards.index = i;
        const e = evaluateFlag(entry, keys[i], attrs ?? EMPTY, ctx.nowMs, shards, ctx.obfuscated);
        const a = e.allocation;
        const splitIndex = a && e.split ? a.splits.indexOf(e.split) : -1;
        const id = CODE_ID[e.code] + 8 * ((a?.position ?? 0) * 0x10000 + splitIndex + 1);
        k = index.get(id) ?? intern(id, () => ({
          code: e.code,
          variationKey: a ? e.variationKey : null,
          allocationKey: a?.key ?? null,
          raw: e.code === 'MATCH' ? e.variation?.value : undefined,
          doLog: e.doLog,
        }));
        if (e.doLog && a && ctx.onLog) ctx.onLog(flagKey, keys[i], attrs ?? EMPTY, entry, e);
      }
      cells[i * flagKeys.length + j] = k;
    }
    tables.push(table);
  });
  return new BatchResult(keys, flagKeys, types, cells, tables);
}

const encoder = new TextEncoder();

/**
 * A shard kernel for one batch: for the subject at `index`, answers from an array of shards computed for all
 * subjects at once per (salt, totalShards) with one `shardBatchInto` call.
 */
class BatchShards implements ShardKernel {
  readonly backend: ShardKernel['backend'];
  index = 0;
  readonly #kernel: ShardKernel;
  readonly #keys: readonly string[];
  #arena: Uint8Array | null = null;
  #offsets: Uint32Array | null = null;
  readonly #cache = new Map<Uint8Array, Map<number, Uint32Array>>();

  constructor(kernel: ShardKernel, keys: readonly string[]) {
    this.#kernel = kernel;
    this.backend = kernel.backend;
    this.#keys = keys;
  }

  shard(saltDash: Uint8Array, _key: string, totalShards: number): number {
    let byTotal = this.#cache.get(saltDash);
    if (byTotal === undefined) this.#cache.set(saltDash, (byTotal = new Map()));
    let shards = byTotal.get(totalShards);
    if (shards === undefined) {
      this.#encode();
      shards = new Uint32Array(this.#keys.length);
      this.#kernel.shardBatchInto(saltDash, this.#arena!, this.#offsets!, totalShards, shards);
      byTotal.set(totalShards, shards);
    }
    return shards[this.index];
  }

  shardBatchInto(saltDash: Uint8Array, arena: Uint8Array, offsets: Uint32Array, totalShards: number, out: Uint32Array): void {
    this.#kernel.shardBatchInto(saltDash, arena, offsets, totalShards, out);
  }

  #encode(): void {
    if (this.#arena !== null) return;
    const keys = this.#keys;
    let units = 0;
    for (const k of keys) units += k.length;
    const arena = new Uint8Array(units * 3);
    const offsets = new Uint32Array(keys.length + 1);
    let at = 0;
    for (let i = 0; i < keys.length; i++) {
      offsets[i] = at;
      // Keys with lone surrogates never reach a shard (the evaluator fails them first, as Eppo does).
      at += encoder.encodeInto(keys[i], arena.subarray(at)).written;
    }
    offsets[keys.length] = at;
    this.#arena = arena.subarray(0, at);
    this.#offsets = offsets;
  }
}
