/**
 * Sample ratio mismatch tests: Pearson's chi-square goodness of fit (p from the regularized upper incomplete gamma
 * function) and, when the outcomes can be enumerated, the exact multinomial test (binomial for two variations):
 * the probability of every outcome at most as likely as the observed one.
 * @module
 */

/** ln(k!) for k = 0..n, by summing logs. */
function logFactorials(n: number): Float64Array {
  const out = new Float64Array(n + 1);
  for (let k = 2; k <= n; k++) out[k] = out[k - 1] + Math.log(k);
  return out;
}

/** ln Γ(a) for a positive multiple of 1/2 (chi-square degrees of freedom / 2). */
function logGammaHalf(a: number): number {
  if (Number.isInteger(a)) return logFactorials(a - 1)[a - 1];
  // Γ(k + 1/2) = (2k)! √π / (4^k k!)
  const k = a - 0.5;
  const f = logFactorials(2 * k);
  return f[2 * k] + 0.5 * Math.log(Math.PI) - k * Math.log(4) - f[k];
}

/** Q(a, x) = Γ(a, x) / Γ(a), the upper regularized incomplete gamma function, for a a multiple of 1/2. */
export function gammaQ(a: number, x: number): number {
  if (x <= 0) return 1;
  const lg = logGammaHalf(a);
  if (x < a + 1) {
    // Series for P(a, x).
    let term = 1 / a;
    let sum = term;
    for (let n = 1; n < 10_000; n++) {
      term *= x / (a + n);
      sum += term;
      if (Math.abs(term) < Math.abs(sum) * 1e-17) break;
    }
    return Math.max(0, 1 - sum * Math.exp(-x + a * Math.log(x) - lg));
  }
  // Continued fraction for Q(a, x) (modified Lentz).
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 10_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x + a * Math.log(x) - lg) * h;
}

export interface SrmTest {
  statistic: number;
  df: number;
  pValue: number;
  method: 'chi-square' | 'exact multinomial' | 'exact binomial';
}

/** The most outcomes enumerated for an exact test. */
const MAX_OUTCOMES = 2_000_000;

/**
 * Sample ratio mismatch: observed counts against expected proportions (normalized; variations expected at 0 must
 * have 0 observations, else p = 0). Exact when the outcomes can be enumerated, else chi-square.
 */
export function srmTest(observed: readonly number[], expected: readonly number[]): SrmTest {
  const n = observed.reduce((s, x) => s + x, 0);
  const total = expected.reduce((s, x) => s + x, 0);
  const p = expected.map((x) => x / total);
  let statistic = 0;
  let impossible = false;
  const cells: number[] = [];
  observed.forEach((o, i) => {
    if (p[i] === 0) {
      if (o > 0) impossible = true;
      return;
    }
    cells.push(i);
    const e = n * p[i];
    statistic += ((o - e) * (o - e)) / e;
  });
  const df = Math.max(0, cells.length - 1);
  if (impossible) return { statistic: Infinity, df, pValue: 0, method: 'chi-square' };
  if (df === 0 || n === 0) return { statistic: 0, df, pValue: 1, method: 'chi-square' };
  let outcomes = 1;
  for (let k = 1; k <= df; k++) outcomes = (outcomes * (n + k)) / k;
  if (outcomes <= MAX_OUTCOMES) {
    return { statistic, df, pValue: exactMultinomial(cells.map((i) => observed[i]), cells.map((i) => p[i]), n), method: df === 1 ? 'exact binomial' : 'exact multinomial' };
  }
  return { statistic, df, pValue: gammaQ(df / 2, statistic / 2), method: 'chi-square' };
}

/** Sum of the probabilities of all outcomes no more likely than the observed one (relative tolerance 1e-7). */
function exactMultinomial(x: readonly number[], p: readonly number[], n: number): number {
  const lf = logFactorials(n);
  const lp = p.map(Math.log);
  const logPmf = (counts: number[]) => counts.reduce((s, c, i) => s + c * lp[i] - lf[c], lf[n]);
  const observed = logPmf([...x]);
  const limit = observed + Math.log1p(1e-7);
  let sum = 0;
  const k = x.length;
  const counts = new Array(k).fill(0);
  const walk = (i: number, left: number, acc: number) => {
    if (i === k - 1) {
      counts[i] = left;
      const lpmf = acc + left * lp[i] - lf[left];
      if (lpmf <= limit) sum += Math.exp(lpmf);
      return;
    }
    for (let c = 0; c <= left; c++) {
      counts[i] = c;
      walk(i + 1, left - c, acc + c * lp[i] - lf[c]);
    }
  };
  walk(0, n, lf[n]);
  return Math.min(1, sum);
}

/** A p-value for people: 4 significant digits, scientific below 1e-4. */
export function formatP(p: number): string {
  return p === 0 ? '0' : p < 1e-4 ? p.toExponential(2) : p.toPrecision(4);
}
