/**
 * A cohort under two configs: per chunk, the pairs (old outcome, new outcome) of every flag with their subject
 * counts and a few sample keys (in a worker); across chunks, the merged counts per flag and per running
 * experiment (in the main thread).
 * @module
 */
import { type BatchContext, type BatchResult, type BatchSubject, type ColumnarSubjects, evaluateBatch, evaluateColumns } from '../eval/batch.ts';
import { compileConfig } from '../config/compile.ts';
import { getKernel } from '../wasm/kernel.ts';
import { type CohortFlag, type ExperimentDiff, type Matrix, SAMPLE_KEYS } from './diff.ts';

/** What a subject got for a flag: variation key, allocation key and evaluation code. */
export type OutcomeKey = [variationKey: string | null, allocationKey: string | null, code: string];

/** One pair of a chunk: flag index, outcome before, outcome after, subjects, sample keys (when they differ). */
export type PairRow = [j: number, before: OutcomeKey, after: OutcomeKey, count: number, samples: string[]];

/**
 * Both configs' versions of the flags in one batch: the engine program holds the old flags (indexes 0 … k − 1)
 * and the new ones (k … 2k − 1), so every subject is parsed and encoded once, its shards are hashed once per salt
 * the two configs share, and each regex or semver condition they share is decided once. Every cell is evaluated
 * as a getter would evaluate it under its own config.
 */
export class CohortEvaluator {
  /** The attributes the compared flags' conditions read, in either config: no other can change an outcome. */
  readonly attributes: ReadonlySet<string>;
  readonly #k: number;
  readonly #keys: readonly string[];
  readonly #ctx: BatchContext;

  /**
   * @param before the old UFC document (validated, SERVER format).
   * @param after the new one.
   * @param flagKeys the flags to compare.
   * @param nowMs the clock for allocation windows.
   */
  constructor(before: unknown, after: unknown, flagKeys: readonly string[], nowMs: number) {
    const a = compileConfig(before);
    const b = compileConfig(after);
    const entries = [...flagKeys.map((f) => a.flags.get(f)), ...flagKeys.map((f) => b.flags.get(f))];
    const names = new Set<string>();
    for (const f of entries) {
      if (f?.kind === 'flag') for (const alloc of f.allocations) for (const r of alloc.rules) for (const c of r.conditions) names.add(c.attribute);
    }
    this.attributes = names;
    this.#k = flagKeys.length;
    // The batch looks flags up by key: here a key is the entry's index.
    this.#keys = entries.map((_, j) => String(j));
    this.#ctx = { kernel: getKernel(), nowMs, obfuscated: false, programKey: this, lookup: (j) => entries[Number(j)] };
  }

  /** The outcome pairs of subjects given as columns (see ColumnarSubjects). */
  columns(subjects: ColumnarSubjects): PairRow[] {
    return this.#pairs(evaluateColumns(subjects, this.#keys, this.#ctx));
  }

  /** The outcome pairs of subjects given as objects. */
  objects(subjects: readonly BatchSubject[]): PairRow[] {
    return this.#pairs(evaluateBatch(subjects, this.#keys, this.#ctx));
  }

  /** Counts the (before, after) outcome pairs of every flag, with the first few keys of each changing pair. */
  #pairs(r: BatchResult): PairRow[] {
    const k = this.#k;
    const n = r.size;
    const rows: PairRow[] = [];
    const outcomes = (j: number) => Array.from({ length: r.outcomes(j) }, (_, x): OutcomeKey => {
      const o = r.outcome(j, x);
      return [o.variationKey, o.allocationKey, o.reason];
    });
    for (let j = 0; j < k; j++) {
      const oa = outcomes(j);
      const ob = outcomes(k + j);
      const nb = ob.length;
      const ca = r.outcomeColumn(j);
      const cb = r.outcomeColumn(k + j);
      const counts = new Uint32Array(oa.length * nb);
      for (let i = 0; i < n; i++) counts[ca[i] * nb + cb[i]]++;
      const samples: string[][] = [];
      let wanted = 0;
      for (let p = 0; p < counts.length; p++) {
        const x = oa[Math.floor(p / nb)];
        const y = ob[p % nb];
        if (counts[p] > 0 && (x[0] !== y[0] || x[1] !== y[1] || x[2] !== y[2])) {
          samples[p] = [];
          wanted += Math.min(counts[p], SAMPLE_KEYS);
        }
      }
      // A second pass, for the first keys of the pairs that change, until it has them all.
      for (let i = 0; i < n && wanted > 0; i++) {
        const s = samples[ca[i] * nb + cb[i]];
        if (s !== undefined && s.length < SAMPLE_KEYS) {
          s.push(r.subjectKey(i));
          wanted--;
        }
      }
      counts.forEach((count, p) => {
        if (count > 0) rows.push([j, oa[Math.floor(p / nb)], ob[p % nb], count, samples[p] ?? []]);
      });
    }
    return rows;
  }
}

/** Merges the pairs of every chunk; chunks come in input order, so the samples are the first keys of the input. */
export class CohortTally {
  subjects = 0;
  readonly #flagKeys: readonly string[];
  readonly #pairs: Map<string, { before: OutcomeKey; after: OutcomeKey; count: number; samples: string[] }>[];

  constructor(flagKeys: readonly string[]) {
    this.#flagKeys = flagKeys;
    this.#pairs = flagKeys.map(() => new Map());
  }

  add(subjects: number, rows: readonly PairRow[]): void {
    this.subjects += subjects;
    for (const [j, before, after, count, samples] of rows) {
      const id = JSON.stringify([before, after]);
      const e = this.#pairs[j].get(id);
      if (e === undefined) this.#pairs[j].set(id, { before, after, count, samples: samples.slice() });
      else {
        e.count += count;
        for (const k of samples) if (e.samples.length < SAMPLE_KEYS) e.samples.push(k);
      }
    }
  }

  /** Counts of one flag over the cohort, or null when it was not evaluated. */
  flag(flagKey: string): CohortFlag | null {
    const j = this.#flagKeys.indexOf(flagKey);
    if (j < 0) return null;
    const out: CohortFlag = {
      subjects: this.subjects, changedVariation: 0, changedAllocation: 0, changedCode: 0,
      samples: { variation: [], allocation: [], code: [] }, matrix: { rows: [], cols: [], cells: [] },
    };
    const take = (into: string[], keys: string[]) => {
      for (const k of keys) if (into.length < SAMPLE_KEYS && !into.includes(k)) into.push(k);
    };
    for (const p of this.#pairs[j].values()) {
      if (p.before[0] !== p.after[0]) {
        out.changedVariation += p.count;
        take(out.samples.variation, p.samples);
      }
      if (p.before[1] !== p.after[1]) {
        out.changedAllocation += p.count;
        take(out.samples.allocation, p.samples);
      }
      if (p.before[2] !== p.after[2]) {
        out.changedCode += p.count;
        take(out.samples.code, p.samples);
      }
      addCell(out.matrix, p.before[0], p.after[0], p.count);
    }
    out.matrix = sorted(out.matrix);
    return out;
  }

  /**
   * A running experiment measured on the cohort: its subjects are those the old config put in its allocation; a
   * subject is reassigned when the new config gives it another variation or another allocation (column null).
   */
  experiment(flagKey: string, e: ExperimentDiff): ExperimentDiff {
    const j = this.#flagKeys.indexOf(flagKey);
    if (j < 0) return e;
    const matrix: Matrix = { rows: [], cols: [], cells: [] };
    let total = 0;
    let moved = 0;
    for (const p of this.#pairs[j].values()) {
      if (p.before[1] !== e.allocationKey) continue;
      const col = p.after[1] === e.allocationKey ? p.after[0] : null;
      addCell(matrix, p.before[0], col, p.count);
      total += p.count;
      if (col !== p.before[0]) moved += p.count;
    }
    return { ...e, reassignShare: total > 0 ? moved / total : 0, basis: 'cohort', matrix: sorted(matrix) };
  }
}

function addCell(m: Matrix, row: string | null, col: string | null, count: number): void {
  let r = m.rows.indexOf(row);
  if (r < 0) {
    r = m.rows.push(row) - 1;
    m.cells.push(m.cols.map(() => 0));
  }
  let c = m.cols.indexOf(col);
  if (c < 0) {
    c = m.cols.push(col) - 1;
    for (const cells of m.cells) cells.push(0);
  }
  m.cells[r][c] += count;
}

/** Rows and columns by variation key, null (no variation) last. */
function sorted(m: Matrix): Matrix {
  const order = (keys: (string | null)[]) => keys.map((_, i) => i).sort((a, b) => (keys[a] === null ? 1 : keys[b] === null ? -1 : keys[a]! < keys[b]! ? -1 : keys[a]! > keys[b]! ? 1 : 0));
  const ro = order(m.rows);
  const co = order(m.cols);
  return { rows: ro.map((i) => m.rows[i]), cols: co.map((k) => m.cols[k]), cells: ro.map((i) => co.map((k) => m.cells[i][k])) };
}
