// No value lost or changed by a file format: for random configs (plus flags with JSON null, JSON strings that look
// like numbers, invalid JSON text and wrong-typed values) and subjects whose keys start with U+FEFF (so chunks of
// every reader start with one), `saltshard assign` from CSV, NDJSON and Parquet input writes NDJSON rows equal to
// the client's `assignMany` rows, and the CSV, Parquet and wide outputs read back equal those NDJSON rows.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import Papa from 'papaparse';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { offlineInit } from '../src/mod.ts';
import { genConfig, Rng } from './gen-config.ts';
import { ROOT } from './support.ts';

const t = suite('file-formats');
const dir = mkdtempSync(join(tmpdir(), 'saltshard-file-formats-'));
const file = (name: string) => join(dir, name);

function run(args: string[]) {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  const argv = g.Deno ? ['run', '-A', '--no-lock', join(ROOT, 'src', 'bin.ts'), ...args] : g.Bun ? [join(ROOT, 'src', 'bin.ts'), ...args] : [join(ROOT, 'bin', 'saltshard'), ...args];
  // Small chunks: a few hundred rows cross many chunk boundaries.
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8', cwd: ROOT, maxBuffer: 256 << 20, env: { ...process.env, SALTSHARD_ASSIGN_CHUNK_BYTES: '1024' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Flags whose values a format could lose: JSON null, JSON strings "123" and "", invalid JSON text, a wrong type.
const VALUE_FLAGS = {
  'json-values': {
    key: 'json-values', enabled: true, variationType: 'JSON', totalShards: 10,
    variations: { nul: { key: 'nul', value: 'null' }, num: { key: 'num', value: '"123"' }, empty: { key: 'empty', value: '""' }, obj: { key: 'obj', value: '{"a":[1,null,"x"]}' }, bad: { key: 'bad', value: '{not json' } },
    allocations: [{ key: 'all', splits: ['nul', 'num', 'empty', 'obj', 'bad'].map((variationKey, i) => ({ variationKey, shards: [{ salt: 's', ranges: [{ start: i * 2, end: i * 2 + 2 }] }] })), doLog: true }],
  },
  'wrong-type': {
    key: 'wrong-type', enabled: true, variationType: 'INTEGER', totalShards: 10,
    variations: { ok: { key: 'ok', value: 3 }, frac: { key: 'frac', value: 3.5 } },
    allocations: [{ key: 'all', splits: [{ variationKey: 'ok', shards: [{ salt: 't', ranges: [{ start: 0, end: 5 }] }] }, { variationKey: 'frac', shards: [{ salt: 't', ranges: [{ start: 5, end: 10 }] }] }], doLog: false }],
  },
  'string-values': {
    key: 'string-values', enabled: true, variationType: 'STRING', totalShards: 10,
    variations: { e: { key: 'e', value: '' }, n: { key: 'n', value: '123' }, q: { key: 'q', value: 'a "quoted", value\nwith a line' } },
    allocations: [{ key: 'all', splits: ['e', 'n', 'q'].map((variationKey, i) => ({ variationKey, shards: [{ salt: 'u', ranges: [{ start: i * 3, end: i * 3 + 3 }] }] })), doLog: false }],
  },
};

const COUNTRIES = ['US', 'CA', '1', 'true', 'é日', '\ufeffUS', 'a,b', 'say "hi"', 'null', ' US '];
interface Subject { key: string; attributes: { country?: string; age?: number; beta?: boolean } }

function subjects(rng: Rng, n: number): Subject[] {
  const keyChars = ['a', 'b', 'Z', '0', '7', '-', '_', '.', 'é', '日', '🤗', ' ', '"', ',', '\ufeff', '\\'];
  return Array.from({ length: n }, (_, i) => {
    let key = '';
    for (let k = rng.range(1, 12); k > 0; k--) key += rng.pick(keyChars);
    if (i % 2 === 0) key = `\ufeff${key}`; // half the keys start with a BOM, so many chunks start with one
    if (key.trim() === '') key = `k${i}`;
    const attributes: Subject['attributes'] = {};
    if (rng.chance(0.8)) attributes.country = rng.pick(COUNTRIES);
    if (rng.chance(0.6)) attributes.age = rng.pick([0, 1, 17, 18, 42, 65, -3, 1.5]);
    if (rng.chance(0.5)) attributes.beta = rng.chance(0.5);
    return { key, attributes };
  });
}

const csvCell = (v: unknown) => {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

function writeInputs(list: Subject[], name: string): void {
  writeFileSync(file(`${name}.ndjson`), list.map((s) => JSON.stringify({ subjectKey: s.key, subjectAttributes: s.attributes })).join('\n') + '\n');
  // The CSV file itself starts with a BOM (dropped, as the file's encoding mark); the keys' BOMs are kept.
  const lines = list.map((s) => [s.key, s.attributes.country, s.attributes.age, s.attributes.beta].map(csvCell).join(','));
  writeFileSync(file(`${name}.csv`), `\ufeffsubjectKey,country,age,beta\n${lines.join('\n')}\n`);
  const col = (f: (s: Subject) => unknown) => list.map((s) => f(s) ?? null);
  writeFileSync(file(`${name}.parquet`), new Uint8Array(parquetWriteBuffer({
    columnData: [
      { name: 'subjectKey', data: col((s) => s.key), type: 'STRING' },
      { name: 'country', data: col((s) => s.attributes.country), type: 'STRING' },
      { name: 'age', data: col((s) => s.attributes.age), type: 'DOUBLE' },
      { name: 'beta', data: col((s) => s.attributes.beta), type: 'BOOLEAN' },
    ],
    rowGroupSize: 97,
  })));
}

// Strings as written, a leading U+FEFF included (hyparquet's default decoder drops it).
const keepBom = new TextDecoder('utf-8', { ignoreBOM: true });
async function readParquet(path: string): Promise<Record<string, unknown>[]> {
  const buf = readFileSync(path);
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  return await parquetReadObjects({ file: ab, parsers: { stringFromBytes: (b: Uint8Array) => b && keepBom.decode(b) } } as never) as Record<string, unknown>[];
}

/** A long-layout CSV or Parquet row back to its NDJSON row: value typed by variationType, null unless MATCH. */
function typedRow(r: Record<string, unknown>): Record<string, unknown> {
  const orNull = (v: unknown) => (v === '' || v === null || v === undefined ? null : v);
  const type = orNull(r.variationType);
  const text = r.value === null || r.value === undefined ? '' : String(r.value);
  const value = r.reason !== 'MATCH' ? null : type === 'STRING' ? text : JSON.parse(text);
  return { subjectKey: r.subjectKey, flagKey: r.flagKey, variationType: type, variationKey: orNull(r.variationKey), value, allocationKey: orNull(r.allocationKey), reason: r.reason, doLog: r.doLog === true || r.doLog === 'true' };
}

const ndjson = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
const csvRows = (text: string) => {
  const parsed = Papa.parse<Record<string, string>>(text, { header: true, skipEmptyLines: true });
  assert.deepEqual(parsed.errors, []);
  return parsed.data;
};

for (const seed of [1, 2]) {
  t(`seed ${seed}: NDJSON rows equal assignMany for CSV, NDJSON and Parquet input; CSV, Parquet and wide outputs read back equal them`, async () => {
    const rng = new Rng(seed * 7919);
    const doc = genConfig(rng, { flags: [5, 7] }) as { flags: Record<string, unknown> };
    Object.assign(doc.flags, VALUE_FLAGS);
    const configPath = file(`config-${seed}.json`);
    writeFileSync(configPath, JSON.stringify(doc));
    const list = subjects(rng, 400);
    writeInputs(list, `in-${seed}`);
    const client = offlineInit({ flagsConfiguration: JSON.stringify(doc), assignmentLogger: null });
    const flags = client.getFlagKeys();
    const want = [...client.assignMany(list.map((s) => ({ subjectKey: s.key, subjectAttributes: s.attributes })), flags, { log: 'none' }).rows()] as unknown as Record<string, unknown>[];
    assert.ok(want.some((r) => r.flagKey === 'json-values' && r.reason === 'MATCH' && r.value === null), 'an assigned JSON null');
    assert.ok(want.some((r) => r.flagKey === 'json-values' && r.value === '123'), 'an assigned JSON "123"');
    assert.ok(want.some((r) => r.flagKey === 'json-values' && r.reason === 'ASSIGNMENT_ERROR' && r.variationKey === 'bad'), 'invalid JSON keeps its variation key');
    const wideWant = list.map((s, i) => Object.fromEntries([['subjectKey', s.key], ...flags.map((f, j) => {
      const r = want[i * flags.length + j];
      return [f, r.reason === 'MATCH' ? r.variationKey : null];
    })]));
    assert.ok(wideWant.some((r) => r['wrong-type'] === null) && wideWant.some((r) => r['wrong-type'] === 'ok'), 'wide: the default is null');

    const base = ['assign', '--config', configPath, '--types', 'country:string', '--workers', '2'];
    for (const input of ['csv', 'ndjson', 'parquet']) {
      const inPath = file(`in-${seed}.${input}`);
      const nd = run([...base, '--input', inPath]);
      assert.equal(nd.code, 0, nd.stderr);
      assert.deepEqual(ndjson(nd.stdout), want, `${input} → NDJSON`);

      const csv = run([...base, '--input', inPath, '--format', 'csv']);
      assert.equal(csv.code, 0, csv.stderr);
      assert.deepEqual(csvRows(csv.stdout).map(typedRow), want, `${input} → CSV`);

      const pq = file(`out-${seed}-${input}.parquet`);
      const p = run([...base, '--input', inPath, '--format', 'parquet', '--output', pq]);
      assert.equal(p.code, 0, p.stderr);
      assert.deepEqual((await readParquet(pq)).map(typedRow), want, `${input} → Parquet`);

      const wide = run([...base, '--input', inPath, '--layout', 'wide']);
      assert.equal(wide.code, 0, wide.stderr);
      assert.deepEqual(ndjson(wide.stdout), wideWant, `${input} → wide NDJSON`);
      const wideCsv = run([...base, '--input', inPath, '--layout', 'wide', '--format', 'csv']);
      assert.equal(wideCsv.code, 0, wideCsv.stderr);
      assert.deepEqual(csvRows(wideCsv.stdout), wideWant.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v ?? '']))), `${input} → wide CSV`);
      const widePq = file(`wide-${seed}-${input}.parquet`);
      const wp = run([...base, '--input', inPath, '--layout', 'wide', '--format', 'parquet', '--output', widePq]);
      assert.equal(wp.code, 0, wp.stderr);
      assert.deepEqual(await readParquet(widePq), wideWant, `${input} → wide Parquet`);
    }
  });
}

t.run();
