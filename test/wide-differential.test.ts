// The wide differential (issue 13): 16 random configs of 40 flags each, merged into one 640-flag config, plus the
// same config obfuscated (CLIENT format), evaluated for every subject by Eppo's official evaluator
// (@eppo/js-client-sdk-common, the oracle) and by every saltshard path: the getters over the WASM kernel and over
// the JS kernel, assignMany, assignColumns, and `saltshard assign` from NDJSON (long and wide layouts), CSV and
// Parquet, and `saltshard sql` executed in DuckDB (every flag it compiles; refusals counted per reason). Every row
// must agree on value, variation key, allocation key and evaluation code.
// CSV and Parquet inputs carry text: their oracle is Eppo on the subjects' attributes as text (what those files
// say), NDJSON's the typed attributes. WIDE_DIFF_SUBJECTS=1000 gives the 640,000 rows per path (CI: 60).
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import Papa from 'papaparse';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { type EppoClient, applicationLogger } from '@eppo/js-client-sdk-common';
import { type SaltshardClient, offlineInit } from '../src/mod.ts';
import { ATTRIBUTE_NAMES, Rng, type Subject, genConfig, genSubject, obfuscate } from './gen-config.ts';
import { openDuckDB } from './sql-engines.ts';
import { compare, eppoClient, newComparison, quietly } from './sql-suite.ts';
import { ROOT } from './support.ts';

const t = suite('wide-differential');
const CONFIGS = 16;
const FLAGS_PER_CONFIG = 40;
const SUBJECTS = Number(process.env.WIDE_DIFF_SUBJECTS ?? 60);
const SILENT = { error() {}, warn() {}, info() {}, debug() {} };
const dir = mkdtempSync(join(tmpdir(), 'saltshard-wide-diff-'));
const file = (name: string) => join(dir, name);

/** One evaluated cell, as every path can report it. */
interface Cell { value: unknown; variationKey: string | null; allocationKey: string | null; code: string }
type Attrs = Record<string, unknown>;

// ---- the config: 16 generated configs of 40 flags, keys prefixed so they merge ----

const flags: Record<string, Record<string, unknown>> = {};
for (let c = 0; c < CONFIGS; c++) {
  const doc = genConfig(new Rng(0x3de + c), { flags: [FLAGS_PER_CONFIG, FLAGS_PER_CONFIG] });
  for (const [key, flag] of Object.entries(doc.flags as Record<string, Record<string, unknown>>)) {
    const k = `c${c}.${key}`;
    flags[k] = { ...flag, ...(typeof flag.key === 'string' ? { key: flag.key === key ? k : `c${c}.${flag.key}` } : {}) };
  }
}
const config = { createdAt: '2024-04-17T19:40:53.716Z', format: 'SERVER', environment: { name: 'Test' }, flags };
const flagKeys = Object.keys(flags);
const typeOf = (k: string) => flags[k]!.variationType as string;

const rng = new Rng(0x5ab1ec7);
const subjects: Subject[] = Array.from({ length: SUBJECTS }, (_, i) => {
  const s = genSubject(rng);
  return { key: `${s.key}#${i}`, attributes: s.attributes }; // unique keys: rows are matched by position and key
});
/** The attributes as a CSV or Parquet text column says them: text, and no attribute for null, undefined or ''. */
const asText = (a: Attrs): Attrs => Object.fromEntries(Object.entries(a).filter(([, v]) => v != null && v !== '').map(([k, v]) => [k, String(v)]));
/** Subjects as a UTF-8 text file holds them: a lone surrogate in a key is written (and read back) as U+FFFD. */
const wellFormed = (x: string) => x.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');
const textSubjects = subjects.map((s) => ({ key: wellFormed(s.key), attributes: asText(s.attributes) }));

// ---- the oracle ----

const DEFAULTS: Record<string, unknown> = { STRING: '\u0000default', INTEGER: -987654321, NUMERIC: -98765.4321, BOOLEAN: false, JSON: { '\u0000default': true } };
const GETTER: Record<string, string> = { STRING: 'String', INTEGER: 'Integer', NUMERIC: 'Numeric', BOOLEAN: 'Boolean', JSON: 'JSON' };

type Details = { variation: unknown; evaluationDetails: { variationKey: string | null; flagEvaluationCode: string; matchedAllocation: { key: string } | null } };
type DetailsGetter = (flag: string, subject: string, attrs: Attrs, def: unknown) => Details;

/** Every cell through Eppo's or saltshard's `get<Type>AssignmentDetails`, as [subject][flag]. */
function viaGetters(client: EppoClient | SaltshardClient, list: readonly Subject[]): Cell[][] {
  const getters = flagKeys.map((k) => {
    const fn = (client as unknown as Record<string, DetailsGetter>)[`get${GETTER[typeOf(k)]}AssignmentDetails`]!;
    return fn.bind(client);
  });
  return list.map((s) => flagKeys.map((k, j) => {
    const d = getters[j]!(k, s.key, s.attributes, DEFAULTS[typeOf(k)]);
    const e = d.evaluationDetails;
    return { value: d.variation, variationKey: e.variationKey, allocationKey: e.matchedAllocation?.key ?? null, code: e.flagEvaluationCode };
  }));
}

// Eppo logs each evaluation error (a bad regex in an obfuscated config, a split naming a missing variation) with
// a stack trace and returns the default: the codes are compared, the logs silenced.
// Its evaluator also prints '>>>>' and the error with console.error: silenced while the oracle runs.
applicationLogger.level = 'silent';
const consoleError = console.error;
console.error = () => {};
const obfuscated = obfuscate(config);
const sameSubject = (a: Subject, b: Subject) => a.key === b.key && Object.keys(a.attributes).length === Object.keys(b.attributes).length
  && Object.entries(a.attributes).every(([k, v]) => Object.hasOwn(b.attributes, k) && Object.is(v, b.attributes[k]));
// NDJSON says what JSON says: an attribute set to undefined is absent (so `id` is the key again), -0 is 0.
const jsonSubjects: Subject[] = subjects.map((s) => ({ key: s.key, attributes: JSON.parse(JSON.stringify(s.attributes)) as Attrs }));
// Columns say absent for null and undefined alike (README), so an explicit `id: null` is the key there.
const columnSubjects: Subject[] = subjects.map((s) => ({ key: s.key, attributes: Object.fromEntries(Object.entries(s.attributes).filter(([, v]) => v != null)) }));

/** Eppo on the subjects as given, and on other forms of them (evaluating again only the subjects that differ). */
function oracles(doc: Record<string, unknown>, forms: Subject[][]): Cell[][][] {
  const eppo = eppoClient(doc);
  const base = viaGetters(eppo, subjects);
  return [base, ...forms.map((list) => list.map((s, i) => (sameSubject(s, subjects[i]!) ? base[i]! : viaGetters(eppo, [s])[0]!)))];
}
const [[oracle, oracleJson, oracleColumns, oracleText], [oracleObfuscated, oracleColumnsObfuscated]] = (() => {
  try {
    return [oracles(config, [jsonSubjects, columnSubjects, textSubjects]), oracles(obfuscated, [columnSubjects])];
  } finally {
    console.error = consoleError;
  }
})();

// ---- comparison ----

const show = (x: unknown) => JSON.stringify(x, (_, v) => (v === undefined ? '<undefined>' : v));

/** The first few differing cells (and how many there are) between a path and its oracle. */
function mismatches(got: (i: number, j: number) => Cell, want: Cell[][], compareValue: (g: unknown, w: Cell, j: number) => boolean = (g, w) => Object.is(g, w.value) || show(g) === show(w.value)): string[] {
  const out: string[] = [];
  let n = 0;
  for (let i = 0; i < want.length; i++) {
    for (let j = 0; j < flagKeys.length; j++) {
      const w = want[i]![j]!;
      const g = got(i, j);
      if (g.code === w.code && g.variationKey === w.variationKey && g.allocationKey === w.allocationKey && compareValue(g.value, w, j)) continue;
      if (n++ < 5) out.push(`subject ${show(subjects[i]!.key)} flag ${show(flagKeys[j])}: got ${show(g)}, Eppo ${show(w)}`);
    }
  }
  if (n > 5) out.push(`… ${n} mismatches in all`);
  return out;
}

const ROWS = SUBJECTS * flagKeys.length;
const checked: Record<string, number> = {};
function expectExact(path: string, got: (i: number, j: number) => Cell, want: Cell[][], compareValue?: (g: unknown, w: Cell, j: number) => boolean): void {
  assert.deepEqual(mismatches(got, want, compareValue), [], `${path}: cells differ from Eppo's`);
  checked[path] = ROWS;
}

// ---- in-process paths ----

for (const kernel of ['wasm', 'js'] as const) {
  t(`getters (${kernel} kernel), plain and obfuscated config: every cell equals Eppo's`, () => {
    const plain = viaGetters(offlineInit({ flagsConfiguration: config, logger: SILENT, kernel }), subjects);
    expectExact(`getters/${kernel}`, (i, j) => plain[i]![j]!, oracle);
    const obf = viaGetters(offlineInit({ flagsConfiguration: obfuscated, logger: SILENT, kernel }), subjects);
    expectExact(`getters/${kernel}/obfuscated`, (i, j) => obf[i]![j]!, oracleObfuscated);
  });
}

/**
 * Eppo's getters return the caller's default for a JSON flag whose assigned value is JSON `null`, with the code
 * MATCH: a batch (which has no default) gives that `null`, the text outputs the JSON text `null`.
 */
const assignedNull = (w: Cell, j: number) => w.code === 'MATCH' && typeOf(flagKeys[j]!) === 'JSON' && show(w.value) === show(DEFAULTS.JSON);

/** A batch cell's value: what Eppo's getter gave when MATCH (null for an assigned JSON null); unchecked otherwise. */
const batchValue = (g: unknown, w: Cell, j: number) => (w.code !== 'MATCH' || (assignedNull(w, j) ? g === null : show(g) === show(w.value)));

t('assignMany and assignColumns, plain and obfuscated config: every cell equals Eppo\'s', () => {
  for (const [label, doc, want] of [['plain', config, oracle], ['obfuscated', obfuscated, oracleObfuscated]] as const) {
    const client = offlineInit({ flagsConfiguration: doc, logger: SILENT });
    const many = client.assignMany(subjects.map((s) => ({ subjectKey: s.key, subjectAttributes: s.attributes })), flagKeys, { log: 'none' });
    const values = flagKeys.map((_, j) => many.values(j));
    expectExact(`assignMany/${label}`, (i, j) => {
      const r = many.row(i, j);
      return { value: values[j]![i], variationKey: r.variationKey, allocationKey: r.allocationKey, code: r.reason };
    }, want, batchValue);
    const columns = Object.fromEntries(ATTRIBUTE_NAMES.map((name) => [name, subjects.map((s) => s.attributes[name])]));
    const cols = client.assignColumns({ keys: subjects.map((s) => s.key), columns }, flagKeys, { log: 'none' });
    expectExact(`assignColumns/${label}`, (i, j) => {
      const r = cols.row(i, j);
      return { value: cols.value(i, j), variationKey: r.variationKey, allocationKey: r.allocationKey, code: r.reason };
    }, label === 'plain' ? oracleColumns : oracleColumnsObfuscated, batchValue);
  }
});

// ---- the CLI ----

function cli(args: string[]): string {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  const argv = g.Deno ? ['run', '-A', '--no-lock', join(ROOT, 'src', 'bin.ts'), ...args] : g.Bun ? [join(ROOT, 'src', 'bin.ts'), ...args] : [join(ROOT, 'bin', 'saltshard'), ...args];
  // Small chunks and two workers: the rows cross many chunk boundaries and the worker path is taken.
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8', cwd: ROOT, maxBuffer: 1 << 30, env: { ...process.env, SALTSHARD_ASSIGN_CHUNK_BYTES: '16384' } });
  assert.equal(r.status, 0, `saltshard ${args.join(' ')}: exit ${r.status}\n${r.stderr.slice(-2000)}`);
  return r.stdout;
}

writeFileSync(file('flags.json'), JSON.stringify(config));
const textColumns = ATTRIBUTE_NAMES.map((name) => `${name}:string`).join(',');
const csvCell = (v: unknown) => {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) || s !== s.trim() ? `"${s.replaceAll('"', '""')}"` : s;
};

/** A long-layout row's text value (CSV, Parquet) against the oracle: README's rule, empty/null unless MATCH. */
function textValue(g: unknown, w: Cell, j: number, empty: unknown): boolean {
  if (w.code !== 'MATCH') return g === empty;
  if (assignedNull(w, j)) return g === 'null';
  if (typeOf(flagKeys[j]!) === 'STRING') return g === w.value;
  return typeof g === 'string' && show(JSON.parse(g)) === show(w.value); // numbers, booleans, JSON as JSON text
}

type LongRow = { subjectKey: string; flagKey: string; variationKey: string | null; value: unknown; allocationKey: string | null; reason: string };
function byPosition(rows: LongRow[], label: string, list: readonly Subject[] = subjects): (i: number, j: number) => Cell {
  assert.equal(rows.length, ROWS, `${label}: one row per subject per flag`);
  return (i, j) => {
    const r = rows[i * flagKeys.length + j]!;
    assert.equal(r.subjectKey, list[i]!.key, `${label}: row ${i * flagKeys.length + j} subject`);
    assert.equal(r.flagKey, flagKeys[j], `${label}: row ${i * flagKeys.length + j} flag`);
    return { value: r.value, variationKey: r.variationKey || null, allocationKey: r.allocationKey || null, code: r.reason };
  };
}

t('saltshard assign, NDJSON in and out (long and wide layouts): every row equals Eppo\'s', () => {
  writeFileSync(file('in.ndjson'), jsonSubjects.map((s) => JSON.stringify({ subjectKey: s.key, subjectAttributes: s.attributes })).join('\n') + '\n');
  const long = cli(['assign', '--config', file('flags.json'), '--input', file('in.ndjson'), '--workers', '2']).split('\n').filter(Boolean).map((l) => JSON.parse(l) as LongRow);
  expectExact('cli/ndjson', byPosition(long, 'ndjson'), oracleJson, batchValue);
  const wide = cli(['assign', '--config', file('flags.json'), '--input', file('in.ndjson'), '--layout', 'wide', '--workers', '2']).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, string | null>);
  assert.equal(wide.length, SUBJECTS);
  const mism: string[] = [];
  wide.forEach((row, i) => {
    assert.equal(row.subjectKey, subjects[i]!.key);
    flagKeys.forEach((k, j) => {
      const w = oracleJson[i]![j]!;
      const want = w.code === 'MATCH' ? w.variationKey : null;
      if (row[k] !== want && mism.length < 5) mism.push(`subject ${show(subjects[i]!.key)} flag ${show(k)}: got ${show(row[k])}, Eppo ${show(want)} (${w.code})`);
    });
  });
  assert.deepEqual(mism, []);
  checked['cli/ndjson-wide'] = ROWS;
});

t('saltshard assign, CSV in and out (attributes as text): every row equals Eppo\'s', () => {
  const lines = textSubjects.map((s) => [s.key, ...ATTRIBUTE_NAMES.map((n) => s.attributes[n])].map((v) => csvCell(v === null ? undefined : v)).join(','));
  writeFileSync(file('in.csv'), `subjectKey,${ATTRIBUTE_NAMES.join(',')}\n${lines.join('\n')}\n`);
  const out = cli(['assign', '--config', file('flags.json'), '--input', file('in.csv'), '--types', textColumns, '--format', 'csv', '--workers', '2']);
  const parsed = Papa.parse<LongRow>(out, { header: true, skipEmptyLines: true });
  assert.deepEqual(parsed.errors, []);
  expectExact('cli/csv', byPosition(parsed.data, 'csv', textSubjects), oracleText, (g, w, j) => textValue(g, w, j, ''));
});

t('saltshard assign, Parquet in and out (attributes as text): every row equals Eppo\'s', async () => {
  const col = (name: string) => ({ name, type: 'STRING' as const, data: textSubjects.map((s) => s.attributes[name] ?? null) });
  writeFileSync(file('in.parquet'), new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'subjectKey', type: 'STRING', data: textSubjects.map((s) => s.key) }, ...ATTRIBUTE_NAMES.map(col)] })));
  cli(['assign', '--config', file('flags.json'), '--input', file('in.parquet'), '--output', file('out.parquet'), '--workers', '2']);
  const buf = readFileSync(file('out.parquet'));
  const rows = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer }) as LongRow[];
  expectExact('cli/parquet', byPosition(rows, 'parquet', textSubjects), oracleText, (g, w, j) => textValue(g, w, j, null));
});

t('saltshard sql in DuckDB: every cell of every flag it compiles equals Eppo\'s; refusals counted per reason', async () => {
  const engine = await openDuckDB();
  if (engine === null) return; // openDuckDB said SKIP and why
  const out = newComparison();
  try {
    // A warehouse text column holds UTF-8: lone surrogates in keys become U+FFFD there, as in the text files.
    const rows = subjects.map((s) => ({ key: wellFormed(s.key), attributes: s.attributes }));
    await quietly(() => compare(engine, JSON.stringify(config), rows, Date.now(), out));
  } finally {
    await engine.close();
  }
  assert.deepEqual(out.differences.slice(0, 5), [], `${out.differences.length} SQL cells differ from Eppo's`);
  // Subjects go to one table per column typing (sql-suite's tablesFor); a flag may compile for one and be refused
  // for another (a numeric comparison on a column that is text there).
  const refusals: Record<string, number> = {};
  for (const kind of out.refused.values()) refusals[kind] = (refusals[kind] ?? 0) + 1;
  console.log(`SQL/DuckDB: ${out.compiled.size} of ${flagKeys.length} flags compiled for some table, ${out.rows} cells equal to Eppo's; flags refused for some table, per reason: ${JSON.stringify(refusals)}`);
  assert.deepEqual(flagKeys.filter((k) => !out.compiled.has(k) && !out.refused.has(k)), [], 'every flag is compiled or refused with a reason');
  checked['sql/duckdb'] = out.rows;
});

t.after(() => {
  rmSync(dir, { recursive: true, force: true });
  const total = Object.values(checked).reduce((a, b) => a + b, 0);
  console.log(`FIGURES ${JSON.stringify({ configs: CONFIGS, flags: flagKeys.length, subjects: SUBJECTS, rowsPerPath: ROWS, paths: checked, rowsChecked: total, mismatches: 0 })}`);
});

t.run();
