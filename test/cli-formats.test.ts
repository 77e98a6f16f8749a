// End-to-end tests of `saltshard assign` with CSV, NDJSON and Parquet inputs and outputs, worker threads,
// rejects, the summary and live configs; the CLI runs as a child process of the runtime under test.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import Papa from 'papaparse';
import { parquetReadObjects } from 'hyparquet';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { offlineInit } from '../src/mod.ts';
import { coerce, inferCell } from '../src/cli/assign-core.ts';
import { closedPort, configText, startFakeEppo } from './fake-eppo.ts';
import { ROOT } from './support.ts';

const t = suite('cli-formats');
const dir = mkdtempSync(join(tmpdir(), 'saltshard-formats-'));
const CONFIG = join(ROOT, 'examples', 'flags.json');
const FIELDS = ['subjectKey', 'flagKey', 'variationType', 'variationKey', 'value', 'allocationKey', 'reason', 'doLog'];
const file = (name: string) => join(dir, name);

function argv(args: string[]): string[] {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  return g.Deno ? ['run', '-A', '--no-lock', join(ROOT, 'src', 'bin.ts'), ...args]
    : g.Bun ? [join(ROOT, 'src', 'bin.ts'), ...args]
    : [join(ROOT, 'bin', 'saltshard'), ...args];
}

/** Runs the CLI on this runtime with small chunks (8 KB), so a few thousand rows cross many chunk boundaries. */
function run(args: string[], input?: string) {
  const r = spawnSync(process.execPath, argv(args), { input, encoding: 'utf8', cwd: ROOT, maxBuffer: 256 << 20, env: { ...process.env, SALTSHARD_ASSIGN_CHUNK_BYTES: '8192' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function runAsync(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv(args), { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const ndjsonRows = (text: string) => text.split('\n').filter(Boolean).map((l) => JSON.parse(l));

// Subjects: non-ASCII keys, attributes of each type, some missing.
interface Subject { subjectKey: string; subjectAttributes: Record<string, string | number | boolean> }
const COUNTRIES = ['US', 'CA', 'FR', 'DE', 'Côte d\'Ivoire', 'São Tomé, Príncipe'];
function subjects(n: number): Subject[] {
  const out: Subject[] = [];
  for (let i = 0; i < n; i++) {
    // Keys the output must escape or quote only in some chunks (the others' key bytes are reused as packed).
    const key = i % 7 === 0 ? `ü-日本-${i}-😀` : i % 11 === 0 && i < 600 ? `key "quoted", ${i}` : i % 17 === 0 && i >= 2000 ? `back\\slash\t${i}` : `user-${i}`;
    const a: Record<string, string | number | boolean> = { country: COUNTRIES[i % COUNTRIES.length], sessions: (i * 37) % 250 };
    if (i % 3 !== 0) a.appVersion = `2.${i % 6}.${i % 4}`;
    if (i % 5 === 0) a.email = `p${i}@example.com`;
    if (i % 13 === 0) a.note = `line one\nline "two", end`;
    if (i % 4 === 0) a.beta = i % 8 === 0;
    out.push({ subjectKey: key, subjectAttributes: a });
  }
  return out;
}
const COLUMNS = ['subjectKey', 'country', 'appVersion', 'sessions', 'email', 'note', 'beta'];
const csvCell = (v: unknown) => {
  if (v === undefined) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};
const csvLine = (s: Subject) => COLUMNS.map((c) => csvCell(c === 'subjectKey' ? s.subjectKey : s.subjectAttributes[c])).join(',');
const toCsv = (list: Subject[]) => `${COLUMNS.join(',')}\r\n${list.map(csvLine).join('\r\n')}\r\n`;
const toNdjson = (list: Subject[]) => list.map((s) => JSON.stringify(s)).join('\n') + '\n';
function toParquet(list: Subject[]): Uint8Array {
  const col = (c: string) => list.map((s) => (c === 'subjectKey' ? s.subjectKey : s.subjectAttributes[c] ?? null));
  return new Uint8Array(parquetWriteBuffer({
    columnData: [
      { name: 'subjectKey', data: col('subjectKey'), type: 'STRING' },
      { name: 'country', data: col('country'), type: 'STRING' },
      { name: 'appVersion', data: col('appVersion'), type: 'STRING' },
      { name: 'sessions', data: col('sessions'), type: 'INT32' },
      { name: 'email', data: col('email'), type: 'STRING' },
      { name: 'note', data: col('note'), type: 'STRING' },
      { name: 'beta', data: col('beta'), type: 'BOOLEAN' },
    ],
    rowGroupSize: 700,
  }));
}

const client = offlineInit({ flagsConfiguration: readFileSync(CONFIG, 'utf8'), assignmentLogger: null });
const FLAGS = client.getFlagKeys();

/** Every row equals the client's evaluation of its subject, subjects in order, flags in config order. */
function assertAssignments(rows: Record<string, unknown>[], list: Subject[]) {
  assert.equal(rows.length, list.length * FLAGS.length);
  rows.forEach((row, i) => {
    const s = list[Math.floor(i / FLAGS.length)];
    assert.deepEqual(Object.keys(row), FIELDS);
    const e = client.evaluate(FLAGS[i % FLAGS.length], s.subjectKey, s.subjectAttributes);
    assert.deepEqual(row, { subjectKey: s.subjectKey, flagKey: FLAGS[i % FLAGS.length], variationType: e.variationType, variationKey: e.variationKey, value: e.value, allocationKey: e.allocationKey, reason: e.code, doLog: e.doLog }, `row ${i}`);
  });
}

/** CSV or Parquet output rows back to NDJSON rows (value re-typed by variationType). */
function typedRow(r: Record<string, unknown>): Record<string, unknown> {
  const type = r.variationType === '' ? null : r.variationType;
  const text = r.value === '' || r.value === null ? null : String(r.value);
  const value = text === null && r.reason !== 'MATCH' ? null : type === 'STRING' ? (text ?? '') : JSON.parse(text!);
  const orNull = (v: unknown) => (v === '' || v === null || v === undefined ? null : v);
  return { subjectKey: r.subjectKey, flagKey: r.flagKey, variationType: type, variationKey: orNull(r.variationKey), value, allocationKey: orNull(r.allocationKey), reason: r.reason, doLog: r.doLog === true || r.doLog === 'true' };
}

const LIST = subjects(2500);
writeFileSync(file('in.csv'), toCsv(LIST));
writeFileSync(file('in.ndjson'), toNdjson(LIST));
writeFileSync(file('in.parquet'), toParquet(LIST));

t('CSV, NDJSON and Parquet inputs give the client\'s assignments, byte-identical NDJSON, exit 0', () => {
  const outputs = ['in.csv', 'in.ndjson', 'in.parquet'].map((name) => {
    const r = run(['assign', '--config', CONFIG, '--input', file(name), '--workers', '2']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`rows in 2500, rows written 2500 \\(${2500 * FLAGS.length} assignment rows: 2500 subjects x ${FLAGS.length} flags\\), bad rows 0`));
    return r.stdout;
  });
  assertAssignments(ndjsonRows(outputs[0]), LIST);
  assert.equal(outputs[1], outputs[0]);
  assert.equal(outputs[2], outputs[0]);
});

t('CSV and Parquet outputs hold the same rows as NDJSON (round trips)', async () => {
  const nd = ndjsonRows(run(['assign', '--config', CONFIG, '--input', file('in.csv')]).stdout);
  const r = run(['assign', '--config', CONFIG, '--input', file('in.ndjson'), '--output', file('out.csv')]);
  assert.equal(r.code, 0, r.stderr);
  const parsed = Papa.parse<Record<string, string>>(readFileSync(file('out.csv'), 'utf8'), { header: true, skipEmptyLines: true });
  assert.deepEqual(parsed.errors, []);
  assert.deepEqual(parsed.meta.fields, FIELDS);
  assert.deepEqual(parsed.data.map(typedRow), nd);
  const p = run(['assign', '--config', CONFIG, '--input', file('in.csv'), '--output', file('out.pq'), '--format', 'parquet', '--workers', '2']);
  assert.equal(p.code, 0, p.stderr);
  const buf = readFileSync(file('out.pq'));
  const ab = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength);
  const rows = await parquetReadObjects({ file: ab });
  assert.deepEqual(rows.map(typedRow), nd);
  // Parquet output read back as input (key + attributes not present: only the key) still works.
  const back = run(['assign', '--config', CONFIG, '--input', file('out.pq'), '--format', 'csv']);
  assert.equal(back.code, 0, back.stderr);
  assert.equal(back.stdout.split('\n')[0], FIELDS.join(','));
});

t('1, 2 and 4 workers write the same bytes, in every output format', () => {
  for (const [input, format] of [['in.csv', 'ndjson'], ['in.ndjson', 'csv'], ['in.parquet', 'ndjson'], ['in.csv', 'parquet']]) {
    const outs = [1, 2, 4].map((w) => {
      const out = file(`w${w}.${format}`);
      const r = run(['assign', '--config', CONFIG, '--input', file(input), '--output', out, '--format', format, '--workers', String(w)]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`${w} workers?`));
      return readFileSync(out);
    });
    assert.ok(outs[0].length > 1000);
    assert.ok(outs[1].equals(outs[0]), `${input} -> ${format}: 2 workers`);
    assert.ok(outs[2].equals(outs[0]), `${input} -> ${format}: 4 workers`);
  }
});

t('ASCII CSV without quotes (keys read in place from the input bytes): the key column anywhere, CRLF and blank lines, keys to escape in some chunks, an invalid byte', () => {
  const list: Subject[] = Array.from({ length: 2000 }, (_, i) => {
    const a: Record<string, string | number | boolean> = { country: ['US', 'CA', 'FR', 'DE'][i % 4], sessions: (i * 37) % 250 };
    if (i % 3 !== 0) a.appVersion = `2.${i % 6}.${i % 4}`;
    if (i % 5 === 0) a.email = `p${i}@example.com`;
    // One key has an invalid UTF-8 byte in the file (below): it reads as U+FFFD, and its chunk is not ASCII.
    const key = i === 500 ? `bad\uFFFD${i}` : i >= 1200 && i % 17 === 0 ? `back\\slash\t${i}` : `user-${i}`;
    return { subjectKey: key, subjectAttributes: a };
  });
  const cols = ['country', 'subjectKey', 'sessions', 'appVersion', 'email'];
  const line = (s: Subject) => cols.map((c) => String((c === 'subjectKey' ? s.subjectKey : s.subjectAttributes[c]) ?? '')).join(',');
  const csvBytes = new TextEncoder().encode(`${cols.join(',')}\r\n${list.map((s, i) => `${line(s)}\r\n${i % 100 === 0 ? '\r\n' : ''}`).join('')}`);
  const at = csvBytes.findIndex((b, k) => b === 0xef && csvBytes[k + 1] === 0xbf && csvBytes[k + 2] === 0xbd);
  writeFileSync(file('ascii.csv'), new Uint8Array([...csvBytes.subarray(0, at), 0xff, ...csvBytes.subarray(at + 3)]));
  writeFileSync(file('ascii.ndjson'), toNdjson(list));
  for (const layout of ['long', 'wide']) {
    for (const format of ['ndjson', 'csv']) {
      // Compared as bytes: a key byte copied through unchecked would decode to the same text.
      const [fromCsv, fromNdjson] = ['ascii.csv', 'ascii.ndjson'].map((name) => {
        const r = run(['assign', '--config', CONFIG, '--input', file(name), '--format', format, '--layout', layout, '--workers', '2', '--output', file(`${name}.out`)]);
        assert.equal(r.code, 0, r.stderr);
        return readFileSync(file(`${name}.out`));
      });
      assert.ok(fromCsv.equals(fromNdjson), `${layout} ${format}`);
      if (layout === 'long' && format === 'ndjson') assertAssignments(ndjsonRows(fromCsv.toString('utf8')), list);
    }
  }
});

t('--layout wide: one row per subject with each flag\'s variation key, in NDJSON, CSV and Parquet, for any number of workers', async () => {
  const want = LIST.map((s) => {
    const row: Record<string, unknown> = { subjectKey: s.subjectKey };
    for (const f of FLAGS) {
      const e = client.evaluate(f, s.subjectKey, s.subjectAttributes);
      row[f] = e.code === 'MATCH' ? e.variationKey : null; // the default (also on a wrong-typed value) is null
    }
    return row;
  });
  const nd = run(['assign', '--config', CONFIG, '--input', file('in.csv'), '--layout', 'wide', '--workers', '2']);
  assert.equal(nd.code, 0, nd.stderr);
  assert.match(nd.stderr, /rows in 2500, rows written 2500/);
  const rows = ndjsonRows(nd.stdout);
  rows.forEach((row, i) => assert.deepEqual(Object.keys(row), ['subjectKey', ...FLAGS], `row ${i}`));
  assert.deepEqual(rows, want);
  // CSV: the same cells, empty for none.
  const csv = run(['assign', '--config', CONFIG, '--input', file('in.ndjson'), '--layout', 'wide', '--format', 'csv']);
  assert.equal(csv.code, 0, csv.stderr);
  const parsed = Papa.parse<Record<string, string>>(csv.stdout, { header: true, skipEmptyLines: true });
  assert.deepEqual(parsed.errors, []);
  assert.deepEqual(parsed.meta.fields, ['subjectKey', ...FLAGS]);
  assert.deepEqual(parsed.data, want.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v ?? '']))));
  // Parquet: null for none; and 1, 2 and 4 workers write the same bytes in each format.
  for (const format of ['ndjson', 'csv', 'parquet']) {
    const outs = [1, 2, 4].map((w) => {
      const out = file(`wide${w}.${format}`);
      const r = run(['assign', '--config', CONFIG, '--input', file('in.parquet'), '--output', out, '--format', format, '--layout', 'wide', '--workers', String(w)]);
      assert.equal(r.code, 0, r.stderr);
      return readFileSync(out);
    });
    assert.ok(outs[1].equals(outs[0]) && outs[2].equals(outs[0]), `wide ${format}: worker counts differ`);
    if (format === 'parquet') {
      const ab = outs[0].buffer.slice(outs[0].byteOffset, outs[0].byteOffset + outs[0].byteLength);
      assert.deepEqual(await parquetReadObjects({ file: ab }), want);
    }
  }
  assert.match(nd.stderr, new RegExp(`rows written 2500 \\(2500 rows: one per subject, ${FLAGS.length} flag columns\\)`));
  // A config without flags: each row is the key alone.
  writeFileSync(file('noflags.json'), '{"flags":{}}');
  const keysOnly = run(['assign', '--config', file('noflags.json'), '--input', file('in.csv'), '--layout', 'wide', '--format', 'csv']);
  assert.equal(keysOnly.code, 0, keysOnly.stderr);
  const keyLines = Papa.parse<string[]>(keysOnly.stdout, { skipEmptyLines: true }).data.map((r) => r[0]);
  assert.deepEqual(keyLines, ['subjectKey', ...LIST.map((s) => s.subjectKey)]);
  const bad = run(['assign', '--config', CONFIG, '--input', file('in.csv'), '--layout', 'tall']);
  assert.equal(bad.code, 64);
  assert.match(bad.stderr, /--layout must be one of long, wide/);
  // A flag named like the key column would make two columns of one name.
  const doc = JSON.parse(readFileSync(CONFIG, 'utf8'));
  doc.flags.subjectKey = Object.values(doc.flags)[0];
  writeFileSync(file('collide.json'), JSON.stringify(doc));
  const collide = run(['assign', '--config', file('collide.json'), '--input', file('in.csv'), '--layout', 'wide']);
  assert.equal(collide.code, 64);
  assert.match(collide.stderr, /a flag is named "subjectKey"/);
  assert.equal(run(['assign', '--config', file('collide.json'), '--input', file('in.csv')]).code, 0);
});

t('CSV chunks of very short rows and of very long non-ASCII keys (the key buffers grow) give the client\'s assignments', () => {
  const keys = Array.from({ length: 3000 }, (_, i) => (i % 997 === 5 ? `é${'日'.repeat(2500 + i)}🤗` : String.fromCharCode(97 + (i % 26)) + (i % 7 === 0 ? '' : String(i % 10))));
  writeFileSync(file('short.csv'), `subjectKey\n${keys.join('\n')}\n`);
  for (const layout of ['long', 'wide']) {
    const r = run(['assign', '--config', CONFIG, '--input', file('short.csv'), '--layout', layout, '--workers', '2']);
    assert.equal(r.code, 0, r.stderr);
    const rows = ndjsonRows(r.stdout);
    if (layout === 'long') {
      assert.equal(rows.length, keys.length * FLAGS.length);
      rows.forEach((row, i) => {
        const key = keys[Math.floor(i / FLAGS.length)];
        assert.equal(row.subjectKey, key, `row ${i}`);
        assert.equal(row.variationKey, client.evaluate(FLAGS[i % FLAGS.length], key, {}).variationKey, `row ${i}`);
      });
    } else {
      assert.deepEqual(rows.map((row) => row.subjectKey), keys);
    }
  }
});

t('bad rows: reported with line numbers on stderr and in --rejects, good rows all written, counts add up, exit 65', () => {
  // 5 % malformed rows, blank lines, quoted fields with commas, quotes and line breaks, a truncated last line.
  const list = subjects(1000);
  const lines: string[] = [COLUMNS.join(',')];
  const expectedBad: { line: number; error: RegExp }[] = [];
  const good: Subject[] = [];
  let line = 2;
  list.forEach((s, i) => {
    if (i % 20 === 3) {
      const kind = (i / 20) % 4 | 0;
      const text = kind === 0 ? `${csvCell(s.subjectKey)},US` : kind === 1 ? `,US,2.0.0,3,,,` : kind === 2 ? `k${i},US,2.0.0,lots,,,` : `"k${i}"x,US,2.0.0,3,,,`;
      expectedBad.push({ line, error: kind === 0 ? /expected 7 fields, got 2/ : kind === 1 ? /missing "subjectKey"/ : kind === 2 ? /column "sessions": "lots" is not a number/ : /after a closing quote/ });
      lines.push(text);
      line++;
      return;
    }
    if (i % 50 === 7) {
      lines.push('');
      line++;
    }
    const text = csvLine(s);
    lines.push(text);
    good.push(s);
    line += text.split('\n').length;
  });
  expectedBad.push({ line, error: /unterminated quoted field/ });
  const text = `${lines.join('\n')}\n"truncated,US`;
  writeFileSync(file('bad.csv'), text);
  const rejects = file('rejects.ndjson');
  const r = run(['assign', '--config', CONFIG, '--input', file('bad.csv'), '--rejects', rejects, '--types', 'sessions:number', '--workers', '2']);
  assert.equal(r.code, 65, r.stderr);
  assertAssignments(ndjsonRows(r.stdout), good);
  const rej = ndjsonRows(readFileSync(rejects, 'utf8'));
  assert.equal(rej.length, 51);
  assert.deepEqual(rej.map((x) => x.line), expectedBad.map((x) => x.line));
  rej.forEach((x, k) => {
    assert.match(x.error, expectedBad[k].error);
    assert.match(r.stderr, new RegExp(`line ${x.line}: `));
    assert.equal(typeof x.raw, 'string');
  });
  assert.equal(rej.at(-1).raw, '"truncated,US');
  assert.match(r.stderr, new RegExp(`rows in ${good.length + 51}, rows written ${good.length} \\(${good.length * FLAGS.length} assignment rows: ${good.length} subjects x 6 flags\\), bad rows 51`));
  // One summary per run.
  assert.equal(r.stderr.match(/rows in /g)?.length, 1);

  // NDJSON: a truncated last line and bad lines, with line numbers.
  const nd = `${JSON.stringify(list[0])}\n\nnot json\n{"subjectAttributes":{}}\n${JSON.stringify(list[1])}\n{"subjectKey":"x","subj`;
  const n = run(['assign', '--config', CONFIG, '--input', '-', '--rejects', rejects], nd);
  assert.equal(n.code, 65);
  assert.deepEqual(ndjsonRows(readFileSync(rejects, 'utf8')).map((x) => x.line), [3, 4, 6]);
  assert.equal(ndjsonRows(n.stdout).length, 2 * FLAGS.length);
});

t('CSV cells are typed: exact numbers, true/false, empty = missing; --types overrides', () => {
  const csv = 'id,sessions,appVersion,flag,zip\nu1,101,2.5.0,true,007\nu2,101.0,3,false,\nu3,1e3,2.4.0,TRUE,12\n';
  writeFileSync(file('typed.csv'), csv);
  const r = run(['assign', '--config', CONFIG, '--input', file('typed.csv'), '--key', 'id', '--input-format', 'csv']);
  assert.equal(r.code, 0, r.stderr);
  const rows = ndjsonRows(r.stdout);
  const get = (s: string, f: string) => rows.find((x) => x.subjectKey === s && x.flagKey === f);
  assert.equal(get('u1', 'results-per-page').value, 20);
  assert.equal(rows.length, 3 * FLAGS.length);
  // The inference itself: exact numbers only, true/false, everything else text.
  assert.deepEqual(['101', '101.0', '1e3', '007', '-5', '0.25', 'true', 'false', 'TRUE', 'x'].map(inferCell), [101, '101.0', '1e3', '007', -5, 0.25, true, false, 'TRUE', 'x']);
  assert.deepEqual([coerce('1e3', 'number'), coerce('TRUE', 'boolean'), coerce(7, 'string'), coerce('x', 'number'), coerce('yes', 'boolean')], [1000, true, '7', undefined, undefined]);
  const typed = run(['assign', '--config', CONFIG, '--input', file('typed.csv'), '--key', 'id', '--types', 'sessions:number,flag:boolean,zip:string']);
  assert.equal(typed.code, 0, typed.stderr);
  const rows2 = ndjsonRows(typed.stdout);
  for (const s of ['u1', 'u2', 'u3']) assert.equal(rows2.find((x) => x.subjectKey === s && x.flagKey === 'results-per-page').value, 20);
  const bad = run(['assign', '--config', CONFIG, '--input', file('typed.csv'), '--key', 'id', '--types', 'appVersion:number']);
  assert.equal(bad.code, 65);
  assert.match(bad.stderr, /line 2: column "appVersion": "2.5.0" is not a number/);
  assert.match(bad.stderr, /line 4: column "appVersion"/);
  assert.doesNotMatch(bad.stderr, /line 3: /);
});

t('the summary shows each flag\'s variations with counts and percentages', () => {
  const r = run(['assign', '--config', CONFIG, '--input', file('in.csv'), '--output', file('dist.ndjson')]);
  assert.equal(r.code, 0, r.stderr);
  const rows = ndjsonRows(readFileSync(file('dist.ndjson'), 'utf8'));
  const counts = new Map<string, number>();
  for (const x of rows) counts.set(`${x.flagKey}|${x.variationKey ?? '(none)'}|${x.reason}`, (counts.get(`${x.flagKey}|${x.variationKey ?? '(none)'}|${x.reason}`) ?? 0) + 1);
  const section = (flag: string) => r.stderr.split(`\n  ${flag}\n`)[1].split(/\n  \S/)[0];
  for (const [id, count] of counts) {
    const [flag, variation, reason] = id.split('|');
    const pct = ((100 * count) / 2500).toFixed(2);
    assert.match(section(flag), new RegExp(`^    ${variation.replace(/[()]/g, '\\$&')} +${reason} +${count} +${pct} %$`, 'm'), `${id} in\n${r.stderr}`);
  }
  // The 50/50 split of onboarding-copy is about 50/50.
  const short = counts.get('onboarding-copy|short|MATCH')!;
  assert.ok(Math.abs(short / 2500 - 0.5) < 0.05, String(short));
});

t('unusable arguments, inputs and configs: a message and a distinct exit code', () => {
  writeFileSync(file('nokey.csv'), 'id,country\nu1,US\n');
  writeFileSync(file('twice.csv'), 'subjectKey,country,age,country\nu1,US,30,\n');
  const cases: [string[], number, RegExp][] = [
    [['assign', '--config', CONFIG, '--input', file('in.csv'), '--format', 'xml'], 64, /--format must be one of/],
    [['assign', '--config', CONFIG, '--input', file('in.csv'), '--input-format', 'tsv'], 64, /--input-format must be one of/],
    [['assign', '--config', CONFIG, '--input', file('in.csv'), '--types', 'age:int'], 64, /--types/],
    [['assign', '--config', CONFIG, '--input', file('in.csv'), '--workers', '0'], 64, /--workers/],
    [['assign', '--config', CONFIG, '--api-key', 'k', '--input', file('in.csv')], 64, /not both/],
    [['assign', '--config', CONFIG, '--input', '-', '--input-format', 'parquet'], 64, /Parquet input needs a file/],
    [['assign', '--config', CONFIG, '--input', file('nokey.csv')], 65, /no column "subjectKey".*--key/],
    [['assign', '--config', CONFIG, '--input', file('twice.csv')], 65, /names column "country" more than once/],
    [['assign', '--config', CONFIG, '--input', file('in.csv'), '--input-format', 'parquet'], 66, /cannot read input/],
    [['assign', '--config', CONFIG, '--input', file('missing.csv')], 66, /cannot read input/],
    [['assign', '--config', CONFIG, '--input', file('in.csv'), '--output', join(dir, 'no', 'such', 'dir.csv')], 73, /cannot write/],
    [['assign', '--config', file('in.csv'), '--input', file('in.csv')], 78, /cannot use config/],
  ];
  for (const [args, code, message] of cases) {
    const r = run(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
  }
});

t('--api-key fetches the config once from Eppo (fake server), evaluates, and exits', async () => {
  const server = await startFakeEppo(configText(7));
  try {
    writeFileSync(file('few.ndjson'), toNdjson(LIST.slice(0, 50)));
    const r = await runAsync(['assign', '--api-key', 'test-key', '--base-url', server.baseUrl, '--input', file('few.ndjson'), '--workers', '2']);
    assert.equal(r.code, 0, r.stderr);
    const rows = ndjsonRows(r.stdout);
    assert.equal(rows.length, 50 * 7);
    assert.deepEqual(rows.filter((x) => x.flagKey === 'config-version').map((x) => x.value), new Array(50).fill(7));
    assert.equal(server.configRequests().length, 1);
  } finally {
    await server.close();
  }
  const port = await closedPort();
  const r = await runAsync(['assign', '--api-key', 'test-key', '--base-url', `http://127.0.0.1:${port}/api`, '--input', file('few.ndjson')]);
  assert.equal(r.code, 78, r.stderr);
  assert.match(r.stderr, /cannot use config/);
});

t.after(() => rmSync(dir, { recursive: true, force: true }));
t.run();
