/**
 * Exact shares of the shard space: which split (variation) of an allocation a subject reaches, as the share of
 * subjects, computed from the splits' shard ranges, not by sampling. Each distinct (salt, totalShards) is one
 * independent uniform hash; the ranges of every split cut each hash's shards into elementary intervals, and every
 * combination of intervals is one cell of the product space with a known weight. Comparing two versions of an
 * allocation this way gives the share of subjects moving from each old variation to each new one: a changed salt
 * or shard count is a new, independent hash (a re-randomization), a moved range is a move of exactly the shards
 * between the old and new boundaries.
 * @module
 */
import type { Allocation, CompiledFlag } from '../config/compile.ts';

/** An allocation with the shard count of its flag. */
export interface Splits {
  readonly allocation: Allocation;
  readonly totalShards: number;
}

/** Joint shares: `cells[a][b]` is the share of subjects in old variation `rows[a]` and new `cols[b]` (null: no split). */
export interface JointShares {
  readonly rows: (string | null)[];
  readonly cols: (string | null)[];
  readonly cells: number[][];
}

/** The most cells (products of intervals) computed before giving up (null result). */
const MAX_CELLS = 4_000_000;

/** An allocation of a flag, ready for {@link jointShares}. */
export function splitsOf(flag: CompiledFlag, allocation: Allocation): Splits {
  return { allocation, totalShards: flag.totalShards };
}

/**
 * Shares of subjects by (old variation, new variation) for every subject that reaches both allocations (each
 * subject's shards are uniform over each hash, hashes independent). With one argument, rows and columns are the
 * same allocation: the diagonal is its own variation shares. Null when the product space is too large.
 */
export function jointShares(before: Splits, after: Splits = before): JointShares | null {
  // Dimensions: one per (salt, totalShards) used by either version, with its sorted breakpoints.
  const dims = new Map<string, { total: number; cuts: Set<number> }>();
  const dimOf = (salt: string, total: number) => {
    const id = `${total}\u0000${salt}`;
    let d = dims.get(id);
    if (d === undefined) dims.set(id, (d = { total, cuts: new Set([0, total]) }));
    return id;
  };
  type Test = { dim: string; ranges: readonly number[] };
  const tests = (s: Splits) => s.allocation.splits.map((split) => ({
    variationKey: split.variationKey,
    shards: split.shards.map((shard): Test => {
      const dim = dimOf(shard.salt, s.totalShards);
      const cuts = dims.get(dim)!.cuts;
      for (const r of shard.ranges) cuts.add(Math.max(0, Math.min(s.totalShards, r)));
      return { dim, ranges: shard.ranges };
    }),
  }));
  const old = tests(before);
  const cur = after === before ? old : tests(after);
  const axes = [...dims.entries()].map(([id, d]) => {
    const cuts = [...d.cuts].sort((a, b) => a - b);
    const starts: number[] = [];
    const weights: number[] = [];
    for (let i = 0; i + 1 < cuts.length; i++) {
      if (cuts[i + 1] <= cuts[i]) continue;
      starts.push(cuts[i]);
      weights.push((cuts[i + 1] - cuts[i]) / d.total);
    }
    return { id, starts, weights };
  });
  let size = 1;
  for (const a of axes) size *= a.starts.length;
  if (size > MAX_CELLS) return null;

  const rows: (string | null)[] = [];
  const cols: (string | null)[] = [];
  const cells: number[][] = [];
  const rowOf = new Map<string | null, number>();
  const colOf = new Map<string | null, number>();
  const index = (keys: (string | null)[], map: Map<string | null, number>, key: string | null, grow: () => void) => {
    let k = map.get(key);
    if (k === undefined) {
      map.set(key, (k = keys.push(key) - 1));
      grow();
    }
    return k;
  };
  const point = new Map<string, number>();
  const inRanges = (ranges: readonly number[], shard: number) => {
    for (let i = 0; i < ranges.length; i += 2) if (shard >= ranges[i] && shard < ranges[i + 1]) return true;
    return false;
  };
  const pick = (splits: typeof old): string | null => {
    for (const split of splits) if (split.shards.every((t) => inRanges(t.ranges, point.get(t.dim)!))) return split.variationKey;
    return null;
  };
  const at = new Array(axes.length).fill(0);
  for (let c = 0; c < size; c++) {
    let weight = 1;
    axes.forEach((a, d) => {
      point.set(a.id, a.starts[at[d]]);
      weight *= a.weights[at[d]];
    });
    const r = index(rows, rowOf, pick(old), () => cells.push(cols.map(() => 0)));
    const k = index(cols, colOf, pick(cur), () => cells.forEach((row) => row.push(0)));
    cells[r][k] += weight;
    for (let d = 0; d < axes.length; d++) {
      if (++at[d] < axes[d].starts.length) break;
      at[d] = 0;
    }
  }
  // Variations in split order, "no split" last.
  const order = (keys: (string | null)[], splits: typeof old) => {
    const rank = (k: string | null) => (k === null ? Infinity : splits.findIndex((x) => x.variationKey === k));
    return keys.map((_, i) => i).sort((a, b) => rank(keys[a]) - rank(keys[b]));
  };
  const ro = order(rows, old);
  const co = order(cols, cur);
  return { rows: ro.map((i) => rows[i]), cols: co.map((k) => cols[k]), cells: ro.map((i) => co.map((k) => cells[i][k])) };
}

/**
 * Expected share of each variation among the subjects an allocation exposes (those that reach a split): traffic
 * exposure (subjects no split takes) removed, as an experiment analysis sees it. Empty when no split can match.
 */
export function expectedShares(s: Splits): Map<string, number> {
  const joint = jointShares(s);
  const out = new Map<string, number>();
  if (joint === null) return out;
  let exposed = 0;
  joint.rows.forEach((v, r) => {
    if (v === null) return;
    const share = joint.cells[r][joint.cols.indexOf(v)];
    out.set(v, (out.get(v) ?? 0) + share);
    exposed += share;
  });
  if (exposed > 0) for (const [v, share] of out) out.set(v, share / exposed);
  return out;
}
