// Parquet input (src/cli/parquet-read.ts): the columns it decodes itself equal hyparquet's values (through
// assign-core's attributeValue, the path it replaces) for every column kind it claims, in files written by
// hyparquet-writer (many small pages, v2 data pages, SNAPPY and UNCOMPRESSED, dictionary and PLAIN, nulls, non-ASCII
// and long texts, INT64 beyond 2^53) and by DuckDB (v1 data pages in every codec it writes; v2 with DELTA and BYTE_STREAM_SPLIT encodings;
// dates and timestamps of every unit), over whole row groups and ranges that start and end inside pages; the columns
// it does not claim (decimals, unsigned, JSON, nested lists) are left to hyparquet; a timestamp beyond a Date's range
// rejects its row; and `saltshard assign` on Parquet input writes the CSV input's output and
// reports bad rows (null, empty and non-ASCII keys, --types failures) by row number, keeping every good row.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { attributeValue } from '../src/cli/assign-core.ts';
import { Damaged, ParquetColumns, Unsupported, readableColumns } from '../src/cli/parquet-read.ts';
import { mulberry32 as rng } from './gen-config.ts';
import { ROOT, runCli } from './support.ts';

const t = suite('parquet-input');
const dir = mkdtempSync(join(tmpdir(), 'saltshard-parquet-in-'));
const file = (name: string) => join(dir, name);
const keepBom = new TextDecoder('utf-8', { ignoreBOM: true });

const N = 3000;
const r = rng(11);
const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)];
const TEXTS = ['', 'a', 'plain text', 'ünïcödé', '\uFEFFbom first', '日本語', 'x'.repeat(200), 'emoji 🎉', 'comma, "quote"'];
const rows = Array.from({ length: N }, (_, i) => ({
  key: i % 97 === 5 ? `ключ-${i}` : `user-${i}`,
  text: r() < 0.1 ? null : r() < 0.3 ? pick(TEXTS) : `t${Math.floor(r() * 1e6)}@example.com`,
  country: r() < 0.05 ? null : pick(['US', 'FR', 'JP', 'BR', 'IN']),
  i32: r() < 0.1 ? null : Math.floor((r() - 0.5) * 2 ** 32),
  i64: r() < 0.1 ? null : pick([0n, -1n, 2n ** 53n - 1n, 2n ** 53n, -(2n ** 53n) + 1n, -(2n ** 53n), 2n ** 63n - 1n, -(2n ** 63n), BigInt(Math.floor((r() - 0.5) * 1e15))]),
  f32: r() < 0.1 ? null : Math.fround((r() - 0.5) * 1000),
  f64: r() < 0.1 ? null : pick([0, -0, 1.5, Number.NaN, Number.POSITIVE_INFINITY, (r() - 0.5) * 1e300]),
  bool: r() < 0.1 ? null : r() < 0.5,
}));
const col = <K extends keyof (typeof rows)[number]>(k: K) => rows.map((row) => row[k]);

/** hyparquet-writer files: 1,000-row groups, pages of ~2 KB (v2 data pages), with and without compression. */
function writerFile(name: string, codec: 'SNAPPY' | 'UNCOMPRESSED', encoding?: 'PLAIN') {
  writeFileSync(file(name), new Uint8Array(parquetWriteBuffer({
    codec, rowGroupSize: 1000, pageSize: 2048,
    columnData: [
      { name: 'key', data: col('key'), type: 'STRING', nullable: false, encoding },
      { name: 'text', data: col('text'), type: 'STRING', encoding },
      { name: 'country', data: col('country'), type: 'STRING', encoding },
      { name: 'i32', data: col('i32'), type: 'INT32', encoding },
      { name: 'i64', data: col('i64'), type: 'INT64', encoding },
      { name: 'f32', data: col('f32'), type: 'FLOAT', encoding },
      { name: 'f64', data: col('f64'), type: 'DOUBLE', encoding },
      { name: 'bool', data: col('bool'), type: 'BOOLEAN' },
      { name: 'stamp', data: rows.map((_, i) => new Date(1e12 + i * 1000)), type: 'TIMESTAMP' },
      // The other encodings: written by hyparquet-writer only when asked for.
      { name: 'd32', data: col('i32'), type: 'INT32', encoding: 'DELTA_BINARY_PACKED' },
      { name: 'd64', data: col('i64'), type: 'INT64', encoding: 'DELTA_BINARY_PACKED' },
      { name: 'dlen', data: col('text'), type: 'STRING', encoding: 'DELTA_LENGTH_BYTE_ARRAY' },
      { name: 'dtext', data: rows.map((row, i) => (row.text === null ? null : i % 3 ? `shared-prefix-${row.text}` : row.text)), type: 'STRING', encoding: 'DELTA_BYTE_ARRAY' },
      { name: 's32', data: col('f32'), type: 'FLOAT', encoding: 'BYTE_STREAM_SPLIT' },
      { name: 's64', data: col('f64'), type: 'DOUBLE', encoding: 'BYTE_STREAM_SPLIT' },
    ],
  })));
}
writerFile('snappy.parquet', 'SNAPPY');
writerFile('plain.parquet', 'UNCOMPRESSED', 'PLAIN');
const CLAIMED = ['key', 'text', 'country', 'i32', 'i64', 'f32', 'f64', 'bool', 'stamp', 'd32', 'd64', 'dlen', 'dtext', 's32', 's64'];

/** The reference: hyparquet's rows, each cell through attributeValue(). */
async function reference(path: string, names: string[], rowStart: number, rowEnd: number): Promise<Map<string, unknown[]>> {
  const objects = await parquetReadObjects({ file: await asyncBufferFromFile(path), columns: names, rowStart, rowEnd, compressors, parsers: { stringFromBytes: (b: Uint8Array) => b && keepBom.decode(b) } } as never) as Record<string, unknown>[];
  return new Map(names.map((name) => [name, objects.map((o) => attributeValue(o[name]))]));
}

/**
 * Every row group whole, ranges that start and end inside pages (in and out of order: one reader keeps pages between
 * reads), and the file in consecutive 700-row slices; with `keyColumn`, that column as packed bytes when it can be.
 */
async function checkFile(path: string, names: string[], keyColumn: string | null) {
  const metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
  const readable = readableColumns(metadata, names);
  assert.deepEqual([...readable], names, `${path}: every claimed column is read here`);
  const reader = new ParquetColumns(path, metadata, compressors);
  const check = async (g: number, groupStart: number, a: number, b: number) => {
    const want = await reference(path, names, groupStart + a, groupStart + b);
    const got = reader.read(g, groupStart, groupStart + a, groupStart + b, names, keyColumn);
    for (const name of names) {
      if (name === keyColumn && got.packed !== null) {
        const p = got.packed;
        const texts = Array.from(p.starts, (s, i) => keepBom.decode(p.bytes.subarray(s, s + p.lengths[i])));
        assert.deepEqual(texts, want.get(name)!.map((v) => v ?? ''), `${path} group ${g} rows [${a}, ${b}): packed ${name}`);
      } else assert.deepEqual(got.columns.get(name), want.get(name), `${path} group ${g} rows [${a}, ${b}): ${name}`);
    }
  };
  try {
    let groupStart = 0;
    for (let g = 0; g < metadata.row_groups.length; g++) {
      const n = Number(metadata.row_groups[g].num_rows);
      for (const [a, b] of [[0, n], [37, n - 11], [n - 300, n - 299], [n >> 1, n], [3, 40]]) await check(g, groupStart, a, b);
      for (let a = 0; a < n; a += 700) await check(g, groupStart, a, Math.min(n, a + 700));
      groupStart += n;
    }
  } finally {
    reader.close();
  }
}

t('hyparquet-writer files (SNAPPY with dictionaries; UNCOMPRESSED all PLAIN): every claimed column equals hyparquet', async () => {
  await checkFile(file('snappy.parquet'), CLAIMED, null);
  await checkFile(file('plain.parquet'), CLAIMED, null);
});

t('keys packed as bytes when every key of a range is ASCII text, as strings when one is not', async () => {
  const ascii = file('ascii-keys.parquet');
  writeFileSync(ascii, new Uint8Array(parquetWriteBuffer({ rowGroupSize: 500, pageSize: 1024, columnData: [{ name: 'key', data: rows.map((_, i) => (i % 50 === 3 ? null : i % 50 === 4 ? '' : `k${i}`)), type: 'STRING' }] })));
  await checkFile(ascii, ['key'], 'key');
  const read = async (path: string, rows: number) => {
    const reader = new ParquetColumns(path, await parquetMetadataAsync(await asyncBufferFromFile(path)), compressors);
    try {
      return reader.read(0, 0, 0, rows, ['key'], 'key');
    } finally {
      reader.close();
    }
  };
  assert.ok((await read(ascii, 500)).packed !== null, 'ASCII keys are packed');
  // A range holding a non-ASCII key ("ключ-5") comes back as strings.
  const back = await read(file('snappy.parquet'), 1000);
  assert.equal(back.packed, null);
  assert.equal(back.columns.get('key')![5], 'ключ-5');
  await checkFile(file('snappy.parquet'), ['key'], 'key');
});

t('columns it does not claim are left to hyparquet: JSON', async () => {
  const json = file('json.parquet');
  writeFileSync(json, new Uint8Array(parquetWriteBuffer({ columnData: [{ name: 'key', data: ['a', 'b'], type: 'STRING' }, { name: 'doc', data: [{ x: 1 }, { y: [2] }], type: 'JSON' }] })));
  assert.deepEqual([...readableColumns(await parquetMetadataAsync(await asyncBufferFromFile(json)), ['key', 'doc'])], ['key'], 'JSON text is left to hyparquet');
});

t('damaged pages: Damaged (or Unsupported) is thrown or the values come back, never a hang or another error', async () => {
  // hyparquet itself loops forever on some of these files, so it cannot be the reference here: the reader must end,
  // and anything it throws must be one of its own errors (assign reports Damaged as bad input, exit 65).
  const good = new Uint8Array(readFileSync(file('snappy.parquet')));
  const metadata = await parquetMetadataAsync(await asyncBufferFromFile(file('snappy.parquet')));
  // Pages only: the footer (its length in the 4 bytes before the closing magic) stays intact.
  const footer = good.length - 8 - new DataView(good.buffer).getUint32(good.length - 8, true);
  const r = rng(5);
  const path = file('damaged.parquet');
  let damaged = 0;
  for (let k = 0; k < 300; k++) {
    const bad = good.slice();
    for (let f = 0; f <= k % 4; f++) bad[4 + Math.floor(r() * (footer - 4))] = Math.floor(r() * 256);
    writeFileSync(path, bad);
    const reader = new ParquetColumns(path, metadata, compressors);
    let groupStart = 0;
    try {
      for (let g = 0; g < metadata.row_groups.length; g++) {
        const n = Number(metadata.row_groups[g].num_rows);
        try {
          const got = reader.read(g, groupStart, groupStart, groupStart + n, CLAIMED, 'key');
          for (const [name, values] of got.columns) assert.equal(values.length, n, `damage ${k}: ${name}`);
        } catch (err) {
          assert.ok(err instanceof Damaged || err instanceof Unsupported, `damage ${k}: ${(err as Error)?.stack ?? err}`);
          if (err instanceof Damaged) damaged++;
        }
        groupStart += n;
      }
    } finally {
      reader.close();
    }
  }
  assert.ok(damaged > 50, `damage found ${damaged} times`);
});

t('saltshard assign: a damaged Parquet file is reported as bad input (exit 65), not a hang', () => {
  const good = new Uint8Array(readFileSync(file('snappy.parquet')));
  // A dictionary or data page header of the first column chunk, made to claim more values than the group has.
  const bad = good.slice();
  for (let at = 4; at < 64; at++) bad[at] = 0xff;
  writeFileSync(file('broken.parquet'), bad);
  for (const workers of ['1', '2']) {
    const r = runCli(['assign', '--config', join(ROOT, 'examples', 'flags.json'), '--input', file('broken.parquet'), '--key', 'key', '--types', 'i32:number', '--format', 'csv', '--workers', workers]);
    assert.equal(r.code, 65, r.stderr);
    assert.match(r.stderr, /damaged Parquet data in row group 0, column "(key|i32)"/);
  }
});

async function duckdb(): Promise<typeof import('@duckdb/node-api') | null> {
  try {
    return await import('@duckdb/node-api');
  } catch (err) {
    console.log(`SKIP DuckDB-written Parquet: @duckdb/node-api does not load on this runtime (${(err as Error).message.split('\n')[0]})`);
    return null;
  }
}

t('DuckDB files (v1 data pages; snappy, zstd, gzip, uncompressed): claimed columns equal hyparquet, others left to it', async () => {
  const duck = await duckdb();
  if (duck === null) return;
  const con = await (await duck.DuckDBInstance.create(':memory:')).connect();
  try {
    await con.run(`CREATE TABLE s AS SELECT
        'k' || i AS key,
        CASE WHEN i % 7 = 0 THEN NULL WHEN i % 11 = 0 THEN 'ünï ' || i ELSE 'e' || (i * 7919 % 10007) || '@x.test' END AS text,
        CASE WHEN i % 13 = 0 THEN NULL ELSE ['US', 'FR', 'JP'][1 + i % 3] END AS country,
        CASE WHEN i % 5 = 0 THEN NULL ELSE (i * 2654435761 % 4294967296 - 2147483648)::INTEGER END AS i32,
        CASE WHEN i % 9 = 0 THEN NULL WHEN i % 4 = 0 THEN 9007199254740993 + i ELSE i * -1234567 END AS i64,
        (i % 100)::TINYINT AS tiny,
        (i / 3.0)::FLOAT AS f32,
        CASE WHEN i % 6 = 0 THEN NULL ELSE i / 7.0 END AS f64,
        CASE WHEN i % 3 = 0 THEN NULL ELSE i % 2 = 0 END AS bool,
        i::UINTEGER AS u32,
        DATE '2020-01-01' + i::INTEGER AS day,
        CASE WHEN i % 8 = 0 THEN NULL ELSE DATE '1969-12-25' + (i % 40 - 20)::INTEGER END AS near_epoch,
        (i / 100)::DECIMAL(10, 2) AS dec,
        [i, i + 1] AS tags,
        -- Microseconds (TIMESTAMP), milliseconds (TIMESTAMP_MS), nanoseconds (TIMESTAMP_NS), seconds (TIMESTAMP_S, kept
        -- as milliseconds), and with a time zone: around the epoch with sub-millisecond parts (truncated toward zero,
        -- as hyparquet's bigint division), and far from it.
        CASE WHEN i % 10 = 0 THEN NULL ELSE TIMESTAMP '1970-01-01' + to_microseconds((i * 7919 % 20001 - 10000) * 37) END AS ts_us,
        (TIMESTAMP '2024-02-29 12:00:00' + to_milliseconds(i * 1000003))::TIMESTAMP_MS AS ts_ms,
        CASE WHEN i % 10 = 1 THEN NULL ELSE make_timestamp_ns((i * 7919 % 20001 - 10000) * 1234567) END AS ts_ns,
        (TIMESTAMP '1900-01-01' + to_seconds(i * 86413))::TIMESTAMP_S AS ts_s,
        (TIMESTAMP '2001-09-09 01:46:40' + to_microseconds(i * 999))::TIMESTAMPTZ AS ts_tz
      FROM range(5000) t(i)`);
    const names = ['key', 'text', 'country', 'i32', 'i64', 'tiny', 'f32', 'f64', 'bool', 'day', 'near_epoch', 'ts_us', 'ts_ms', 'ts_ns', 'ts_s', 'ts_tz'];
    for (const codec of ['snappy', 'zstd', 'gzip', 'uncompressed']) {
      const path = file(`duck-${codec}.parquet`);
      await con.run(`COPY s TO '${path}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE 2048)`);
      await checkFile(path, names, null);
      await checkFile(path, ['key'], 'key');
      const metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
      assert.deepEqual([...readableColumns(metadata, [...names, 'u32', 'dec', 'tags'])], names, `${codec}: unsigned, decimals and the nested list left to hyparquet`);
    }

    // PARQUET_VERSION V2: DELTA_BINARY_PACKED integers, DELTA_LENGTH_BYTE_ARRAY text, BYTE_STREAM_SPLIT doubles.
    const v2 = file('duck-v2.parquet');
    await con.run(`COPY s TO '${v2}' (FORMAT parquet, PARQUET_VERSION V2, ROW_GROUP_SIZE 2048)`);
    await checkFile(v2, names, null);
    await checkFile(v2, ['key'], 'key');
  } finally {
    con.closeSync();
  }
});

t('saltshard assign: a timestamp beyond the range of a Date rejects its row (by row number), every other row kept', async () => {
  const duck = await duckdb();
  if (duck === null) return;
  const con = await (await duck.DuckDBInstance.create(':memory:')).connect();
  const path = file('far-stamp.parquet');
  try {
    await con.run(`COPY (SELECT 's' || i AS subjectKey,
        CASE WHEN i = 1234 THEN TIMESTAMP '280000-01-01' ELSE TIMESTAMP '2024-01-01' + to_seconds(i) END AS seen,
        ['US', 'FR', 'JP'][1 + i % 3] AS country
      FROM range(3000) t(i)) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
  } finally {
    con.closeSync();
  }
  // The reader leaves the range with that value to hyparquet (whose Date is invalid) and reads the others itself.
  const metadata = await parquetMetadataAsync(await asyncBufferFromFile(path));
  const reader = new ParquetColumns(path, metadata, compressors);
  try {
    assert.throws(() => reader.read(0, 0, 1200, 1300, ['seen'], null), Unsupported);
    assert.deepEqual(reader.read(0, 0, 1300, 1302, ['seen'], null).columns.get('seen'), ['2024-01-01T00:21:40.000Z', '2024-01-01T00:21:41.000Z']);
  } finally {
    reader.close();
  }
  const good = Array.from({ length: 3000 }, (_, i) => i).filter((i) => i !== 1234);
  writeFileSync(file('far-stamp.csv'), `subjectKey,seen,country\n${good.map((i) => `s${i},${new Date(Date.UTC(2024, 0, 1) + i * 1000).toISOString()},${['US', 'FR', 'JP'][i % 3]}`).join('\n')}\n`);
  for (const workers of ['1', '2']) {
    const args = (input: string, output: string) => ['assign', '--config', join(ROOT, 'examples', 'flags.json'), '--input', file(input), '--output', file(output), '--format', 'csv', '--types', 'seen:string', '--workers', workers];
    const fromCsv = runCli(args('far-stamp.csv', 'far-from-csv.csv'));
    assert.equal(fromCsv.code, 0, fromCsv.stderr);
    const fromParquet = runCli(args('far-stamp.parquet', 'far-from-parquet.csv'));
    assert.equal(fromParquet.code, 65, fromParquet.stderr);
    assert.match(fromParquet.stderr, /row 1235: column "seen": a date or timestamp beyond the range of a Date; skipped/);
    assert.match(fromParquet.stderr, /bad rows 1\b/);
    assert.equal(readFileSync(file('far-from-parquet.csv'), 'utf8'), readFileSync(file('far-from-csv.csv'), 'utf8'), `workers ${workers}`);
  }
});

t('saltshard assign: Parquet input writes the CSV input\'s output, bad rows reported by row number, good rows kept', () => {
  const config = join(ROOT, 'examples', 'flags.json');
  const n = 2600;
  const keys = Array.from({ length: n }, (_, i) => (i === 10 ? null : i === 1500 ? '' : i === 2000 ? `é-${i}` : `s${i}`));
  const age = Array.from({ length: n }, (_, i) => (i % 3 === 0 ? null : BigInt(18 + (i % 50))));
  const country = Array.from({ length: n }, (_, i) => ['US', 'FR', 'JP', 'Canada'][i % 4]);
  const score = Array.from({ length: n }, (_, i) => (i === 700 ? 'lots' : String(i % 40)));
  writeFileSync(file('cohort.parquet'), new Uint8Array(parquetWriteBuffer({
    rowGroupSize: 1000, pageSize: 4096,
    columnData: [
      { name: 'subjectKey', data: keys, type: 'STRING' }, { name: 'age', data: age, type: 'INT64' },
      { name: 'country', data: country, type: 'STRING' }, { name: 'score', data: score, type: 'STRING' },
    ],
  })));
  // The good rows, as CSV.
  const good = keys.map((_, i) => i).filter((i) => keys[i] && i !== 700);
  writeFileSync(file('cohort.csv'), `subjectKey,age,country,score\n${good.map((i) => `${keys[i]},${age[i] ?? ''},${country[i]},${score[i]}`).join('\n')}\n`);
  for (const workers of ['1', '2']) {
    const args = (input: string, output: string) => ['assign', '--config', config, '--input', file(input), '--output', file(output), '--format', 'csv', '--types', 'score:number', '--workers', workers];
    const fromCsv = runCli(args('cohort.csv', 'from-csv.csv'));
    assert.equal(fromCsv.code, 0, fromCsv.stderr);
    const fromParquet = runCli(args('cohort.parquet', 'from-parquet.csv'));
    assert.equal(fromParquet.code, 65, `bad rows: exit 65 (data error)\n${fromParquet.stderr}`);
    assert.match(fromParquet.stderr, /row 11: "subjectKey" must be a non-empty string; skipped/);
    assert.match(fromParquet.stderr, /row 701: column "score": "lots" is not a number; skipped/);
    assert.match(fromParquet.stderr, /row 1501: "subjectKey" must be a non-empty string; skipped/);
    assert.match(fromParquet.stderr, /bad rows 3/);
    const got = readFileSync(file('from-parquet.csv'), 'utf8');
    assert.equal(got, readFileSync(file('from-csv.csv'), 'utf8'), `workers ${workers}: the CSV input's output`);
    assert.match(got, /\né-2000,/, 'the non-ASCII key is assigned');
  }
});

t.after(() => rmSync(dir, { recursive: true, force: true }));
t.run();
