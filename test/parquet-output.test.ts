// The Parquet writer of `saltshard assign` (src/cli/parquet.ts, src/cli/snappy.ts): Snappy round trips through
// hyparquet's decoder; files written from the engine's typed results read back (hyparquet, and DuckDB where it loads)
// as exactly the rows the batch API gives — with the config's dictionaries, with dictionaries missing texts (PLAIN
// pages mixed with dictionary pages in one column chunk), several row groups, nulls, no flags, no rows; and the CLI's
// Parquet output equal to its CSV output across row groups.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import Papa from 'papaparse';
import { parquetMetadata, parquetReadObjects, snappyUncompress } from 'hyparquet';
import { offlineInit } from '../src/mod.ts';
import { outputFields, valueText } from '../src/cli/assign-core.ts';
import { ParquetEncoder, ParquetFile, parquetDictionaries } from '../src/cli/parquet.ts';
import { snappyCompress, snappyRepeats } from '../src/cli/snappy.ts';
import type { Layout } from '../src/cli/assign-core.ts';
import { mulberry32 as rng } from './gen-config.ts';
import { ROOT } from './support.ts';

const t = suite('parquet-output');
const dir = mkdtempSync(join(tmpdir(), 'saltshard-parquet-'));
const file = (name: string) => join(dir, name);
const CONFIG = join(ROOT, 'examples', 'flags.json');
const config = JSON.parse(readFileSync(CONFIG, 'utf8'));

t('snappy: compressed blocks decode to the input (random, periodic, repeated, block edges)', () => {
  const r = rng(7);
  const inputs: Uint8Array[] = [];
  for (const n of [0, 1, 4, 15, 16, 17, 63, 64, 65, 1000, 65535, 65536, 65537, 200_000]) {
    inputs.push(Uint8Array.from({ length: n }, () => Math.floor(r() * 256)));
    inputs.push(Uint8Array.from({ length: n }, () => Math.floor(r() * 3)));
    inputs.push(Uint8Array.from({ length: n }, (_, i) => [0x24, 0x49, 0x92][i % 3]));
    inputs.push(new Uint8Array(n).fill(9));
  }
  // Text with repeats at every distance up to 64 KiB (copy1 and copy2 forms, long and overlapping matches).
  const words = Array.from({ length: 5000 }, (_, i) => `k${Math.floor(r() * 1e9).toString(36)}-${i % 97}`);
  inputs.push(new TextEncoder().encode(words.map((w, i) => w.repeat(1 + (i % 4))).join(',')));
  for (const input of inputs) {
    const packed = snappyCompress(input);
    const back = new Uint8Array(input.length);
    snappyUncompress(packed, back);
    assert.deepEqual(back, input, `length ${input.length}`);
    assert.ok(packed.length <= 32 + input.length + input.length / 6);
  }
});

t('snappy: repeated texts (the long layout\'s key column) decode to their PLAIN values, each written `repeat` times', () => {
  const r = rng(8);
  const enc = new TextEncoder();
  // Lengths around every boundary: empty, equal runs (the length copied), literal tags of 1-4 extra bytes, copies
  // of 64 bytes and more, offsets of 2,048 and 65,536 bytes.
  const lengths = [0, 0, 1, 10, 10, 10, 11, 55, 56, 59, 60, 61, 64, 200, 255, 256, 2043, 2044, 5000, 65531, 65532, 70_000, 3, 3];
  const texts = lengths.map((n) => enc.encode(Array.from({ length: n }, () => String.fromCharCode(97 + Math.floor(r() * 26))).join('')));
  const bytes = new Uint8Array(texts.reduce((a, t) => a + t.length, 7));
  const starts = new Uint32Array(texts.length);
  let at = 7;
  texts.forEach((t, i) => {
    starts[i] = at;
    bytes.set(t, at);
    at += t.length;
  });
  const lens = Uint32Array.from(texts, (t) => t.length);
  for (const repeat of [1, 2, 3, 6, 40]) {
    const { packed, raw } = snappyRepeats({ bytes, starts, lengths: lens }, texts.length, repeat);
    const want: number[] = [];
    for (const t of texts) for (let k = 0; k < repeat; k++) want.push(t.length & 0xff, (t.length >>> 8) & 0xff, (t.length >>> 16) & 0xff, t.length >>> 24, ...t);
    assert.equal(raw, want.length);
    const back = new Uint8Array(raw);
    snappyUncompress(packed, back);
    assert.deepEqual(back, Uint8Array.from(want), `repeat ${repeat}`);
  }
});

/** Subjects with keys needing care (quotes, commas, non-ASCII, astral) and attributes that reach every outcome. */
function subjects(n: number, seed: number) {
  const r = rng(seed);
  const countries = ['US', 'CA', 'FR', 'Mexico', 'Côte d\'Ivoire'];
  return Array.from({ length: n }, (_, i) => ({
    subjectKey: i % 13 === 0 ? `ü-"${i}",😀` : `user-${i}-${Math.floor(r() * 1e6)}`,
    subjectAttributes: { country: countries[Math.floor(r() * countries.length)], age: Math.floor(r() * 90), email: i % 4 === 0 ? `p${i}@example.com` : `p${i}@other.org` },
  }));
}

/**
 * Writes `chunks` batches through ParquetEncoder + ParquetFile (as the workers and the main thread do) and returns
 * the file and the rows the batch API gives for the same subjects, as the output columns show them.
 */
async function writeThrough(layout: Layout, chunks: number, perChunk: number, dictionaries: (d: string[][]) => string[][]): Promise<{ bytes: Uint8Array; want: Record<string, unknown>[] }> {
  const client = offlineInit({ flagsConfiguration: config, assignmentLogger: null });
  const flagKeys = client.getFlagKeys();
  const dicts = dictionaries(parquetDictionaries(config, flagKeys, layout, valueText as never));
  const parts: Uint8Array[] = [];
  const out = new ParquetFile(async (b) => void parts.push(b.slice()), layout, flagKeys, dicts);
  await out.open();
  const encoder = new ParquetEncoder(layout, flagKeys, dicts);
  const want: Record<string, unknown>[] = [];
  for (let c = 0; c < chunks; c++) {
    const batch = subjects(perChunk, c + 1);
    const result = client.assignMany(batch, flagKeys, { log: 'none' });
    const keys = batch.map((s) => new TextEncoder().encode(s.subjectKey));
    const bytes = new Uint8Array(keys.reduce((a, k) => a + k.length, 0));
    const starts = new Uint32Array(keys.length);
    const lengths = new Uint32Array(keys.length);
    let at = 0;
    keys.forEach((k, i) => {
      bytes.set(k, at);
      starts[i] = at;
      lengths[i] = k.length;
      at += k.length;
    });
    await out.add(encoder.chunk(result, result.outcomeIndexes(), { bytes, starts, lengths }, valueText));
    for (let i = 0; i < result.size; i++) {
      if (layout === 'wide') {
        const row: Record<string, unknown> = { subjectKey: batch[i].subjectKey };
        flagKeys.forEach((f, j) => {
          const o = result.row(i, j);
          row[f] = o.reason === 'MATCH' ? o.variationKey : null;
        });
        want.push(row);
      } else {
        for (let j = 0; j < flagKeys.length; j++) {
          const o = result.row(i, j);
          want.push({ subjectKey: o.subjectKey, flagKey: o.flagKey, variationType: o.variationType, variationKey: o.variationKey, value: valueText(o), allocationKey: o.allocationKey, reason: o.reason, doLog: o.doLog });
        }
      }
    }
  }
  await out.end();
  client.close();
  const size = parts.reduce((a, p) => a + p.length, 0);
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, want };
}

/** The rows as hyparquet reads them (nulls as null). */
async function readBack(bytes: Uint8Array): Promise<Record<string, unknown>[]> {
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return (await parquetReadObjects({ file: ab })).map((r) => ({ ...r }));
}

async function duckdbRows(path: string): Promise<Record<string, unknown>[] | null> {
  let duck: typeof import('@duckdb/node-api');
  try {
    duck = await import('@duckdb/node-api');
  } catch (err) {
    console.log(`SKIP DuckDB read-back: @duckdb/node-api does not load on this runtime (${(err as Error).message.split('\n')[0]})`);
    return null;
  }
  const con = await (await duck.DuckDBInstance.create(':memory:')).connect();
  try {
    const reader = await con.runAndReadAll(`SELECT * FROM read_parquet('${path.replaceAll("'", "''")}')`);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    con.closeSync();
  }
}

for (const layout of ['long', 'wide'] as const) {
  t(`${layout}: the config's dictionaries, several row groups: every row as the batch API gives it (hyparquet, DuckDB)`, async () => {
    // 6 flags × 9,000 subjects per chunk = 54,000 long rows: a row group every 3 chunks (wide: every 15).
    const { bytes, want } = await writeThrough(layout, 17, 9000, (d) => d);
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    assert.ok(meta.row_groups.length >= 2, `${meta.row_groups.length} row groups`);
    assert.deepEqual(meta.schema.slice(1).map((s) => s.name), outputFields(layout, Object.keys(config.flags)).filter((f) => f === 'subjectKey' || layout === 'long' || Object.hasOwn(config.flags, f)));
    for (const g of meta.row_groups) for (const c of g.columns) assert.equal(c.meta_data?.codec, 'SNAPPY');
    // Every text is in its column's dictionary: the outcome columns' pages hold indices of a few bits per row (a
    // PLAIN page, ≥ 5 bytes per row, would mean a page fell back; a wide column once did, on other flags' texts).
    for (const g of meta.row_groups) {
      for (const c of g.columns.slice(1)) {
        const m = c.meta_data!;
        assert.ok(Number(m.total_uncompressed_size) < Number(g.num_rows) + 4096, `${m.path_in_schema[0]}: ${m.total_uncompressed_size} bytes for ${g.num_rows} rows`);
      }
    }
    const got = await readBack(bytes);
    assert.equal(got.length, want.length);
    assert.deepEqual(got, want);
    writeFileSync(file(`${layout}.parquet`), bytes);
    const duck = await duckdbRows(file(`${layout}.parquet`));
    if (duck) assert.deepEqual(duck, want);
  });

  t(`${layout}: dictionaries missing texts: PLAIN pages beside dictionary pages, same rows`, async () => {
    // Every other text dropped: chunks whose outcomes all remain keep dictionary pages, the others fall back.
    const { bytes, want } = await writeThrough(layout, 6, 40, (d) => d.map((texts) => texts.filter((_, i) => i % 2 === 0)));
    assert.deepEqual(await readBack(bytes), want);
    const { bytes: empty, want: want2 } = await writeThrough(layout, 3, 500, (d) => d.map(() => []));
    assert.deepEqual(await readBack(empty), want2);
    writeFileSync(file(`${layout}-plain.parquet`), bytes);
    const duck = await duckdbRows(file(`${layout}-plain.parquet`));
    if (duck) assert.deepEqual(duck, want);
  });
}

// ------------------------------------------------------------------ the CLI

function argv(args: string[]): string[] {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  return g.Deno ? ['run', '-A', '--no-lock', join(ROOT, 'src', 'bin.ts'), ...args]
    : g.Bun ? [join(ROOT, 'src', 'bin.ts'), ...args]
    : [join(ROOT, 'bin', 'saltshard'), ...args];
}

function run(args: string[]) {
  const r = spawnSync(process.execPath, argv(args), { encoding: 'utf8', cwd: ROOT, maxBuffer: 256 << 20, env: { ...process.env, SALTSHARD_ASSIGN_CHUNK_BYTES: '65536' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

t('saltshard assign: Parquet output equals the CSV output across row groups, bad rows reported, no flags, no rows', async () => {
  const lines = ['subjectKey,country,age,email'];
  subjects(50_000, 99).forEach((s, i) => {
    const a = s.subjectAttributes;
    const key = `"${s.subjectKey.replaceAll('"', '""')}"`;
    lines.push(i === 777 ? `${key},US` : `${key},${a.country.includes("'") ? `"${a.country}"` : a.country},${a.age},${a.email}`);
  });
  writeFileSync(file('in.csv'), `${lines.join('\n')}\n`);
  for (const layout of ['long', 'wide']) {
    const csv = run(['assign', '--config', CONFIG, '--input', file('in.csv'), '--output', file(`out-${layout}.csv`), '--layout', layout, '--workers', '2']);
    const pq = run(['assign', '--config', CONFIG, '--input', file('in.csv'), '--output', file(`out-${layout}.parquet`), '--layout', layout, '--workers', '2']);
    assert.equal(csv.code, 65, csv.stderr);
    assert.equal(pq.code, 65, pq.stderr);
    assert.match(pq.stderr, /line 779: expected 4 fields, got 2; skipped/);
    const parsed = Papa.parse<string[]>(readFileSync(file(`out-${layout}.csv`), 'utf8'), { skipEmptyLines: true }).data;
    const [header, ...body] = parsed;
    const got = await readBack(new Uint8Array(readFileSync(file(`out-${layout}.parquet`))));
    assert.equal(got.length, body.length);
    assert.equal(got.length, layout === 'long' ? 49_999 * Object.keys(config.flags).length : 49_999);
    // CSV shows null as an empty cell and doLog as text.
    got.forEach((row, i) => assert.deepEqual(header.map((h) => (row[h] === null ? '' : String(row[h]))), body[i], `row ${i}`));
    const duck = await duckdbRows(file(`out-${layout}.parquet`));
    if (duck) assert.deepEqual(duck, got);
  }
  // No flags: the long layout has no rows, the wide one only keys; an input without rows gives an empty file.
  writeFileSync(file('none.json'), JSON.stringify({ ...config, flags: {} }));
  writeFileSync(file('empty.csv'), 'subjectKey,country\n');
  for (const [cfg, input, layout, rows] of [['none.json', 'in.csv', 'long', 0], ['none.json', 'in.csv', 'wide', 49_999], [CONFIG, 'empty.csv', 'long', 0]] as const) {
    const r = run(['assign', '--config', cfg === CONFIG ? CONFIG : file(cfg), '--input', file(input), '--output', file('x.parquet'), '--layout', layout]);
    assert.ok(r.code === 0 || r.code === 65, r.stderr);
    const got = await readBack(new Uint8Array(readFileSync(file('x.parquet'))));
    assert.equal(got.length, rows, `${cfg} ${input} ${layout}`);
    if (rows > 0) assert.deepEqual(Object.keys(got[0]), ['subjectKey']);
  }
});

t.after(() => rmSync(dir, { recursive: true, force: true }));
t.run();
