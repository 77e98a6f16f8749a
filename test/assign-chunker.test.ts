// `saltshard assign` cuts its input into chunks of whole records in linear time and memory (issue 12, item 5: the
// chunker re-joined and re-scanned the pending bytes on every piece, so one 100 MB line took 21–27 s and 718 MB).
// Linearity is proven by counting the bytes the chunker scans and copies, not by a clock; the CLI then keeps every
// good row around a multi-megabyte line and reports the bad one with its line number.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { RecordChunker, parseCsv } from '../src/cli/csv.ts';
import { ROOT } from './support.ts';

const t = suite('assign-chunker');
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Feeds `text` to a chunker in pieces of `pieceBytes` and returns the chunks and the work done. */
function chunk(text: string, csv: boolean, minBytes: number, pieceBytes: number): { chunks: string[]; work: number; bytes: number } {
  const bytes = encoder.encode(text);
  const chunker = new RecordChunker(csv, minBytes);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += pieceBytes) {
    const c = chunker.push(bytes.subarray(at, at + pieceBytes));
    if (c !== null) chunks.push(c);
  }
  const last = chunker.finish();
  if (last !== null) chunks.push(last);
  assert.equal(chunker.pending, 0);
  return { chunks: chunks.map((c) => decoder.decode(c)), work: chunker.work, bytes: bytes.length };
}

/** The records of CSV text as parseCsv sees them. */
function records(text: string): string[] {
  const out: string[] = [];
  parseCsv(text, (fields, _line, raw) => out.push(fields ? JSON.stringify(fields) : `bad ${raw()}`));
  return out;
}

/** A deterministic CSV with quoted fields holding commas, `""` and line breaks, and a long record every 50. */
function sampleCsv(rows: number): string {
  let s = '';
  for (let i = 0; i < rows; i++) {
    const note = i % 7 === 0 ? `"line one\nline ""two"", ${i}"` : i % 5 === 0 ? `"a,b"` : `plain${i}`;
    const long = i % 50 === 0 ? 'x'.repeat(3000 + i) : String(i);
    s += `user-${i},${note},${long}${i % 3 === 0 ? '\r\n' : '\n'}`;
  }
  return s;
}

t('chunks hold whole records only and, joined, give the input back (CSV with quoted line breaks, NDJSON)', () => {
  const csv = sampleCsv(2000);
  for (const [minBytes, pieceBytes] of [[1024, 1], [1024, 97], [4096, 1000], [1 << 16, 1 << 16], [100, 100_000]]) {
    const { chunks } = chunk(csv, true, minBytes, pieceBytes);
    assert.equal(chunks.join(''), csv);
    for (const [i, c] of chunks.entries()) {
      // Parsed on its own, every chunk gives exactly its records: none is cut inside a quoted field.
      assert.ok(!records(c).some((r) => r.startsWith('bad')), `chunk ${i} parses cleanly`);
    }
    assert.deepEqual(chunks.flatMap(records), records(csv), `records with ${minBytes}/${pieceBytes}`);
  }
  const ndjson = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ subjectKey: `u${i}`, subjectAttributes: { pad: 'p'.repeat(i % 400) } })).join('\n');
  const { chunks } = chunk(ndjson, false, 2048, 333);
  assert.equal(chunks.join(''), ndjson);
  for (const c of chunks.slice(0, -1)) assert.ok(c.endsWith('\n'));
});

t('work is linear in the input: one 8 MiB line fed in 1 KiB pieces scans and copies each byte about once', () => {
  // The old chunker joined and re-scanned all pending bytes per piece: ~8192²/2 KiB ≈ 34 GB of work here.
  const line = (n: number) => `big,"${'q'.repeat(n / 2)}\n""${'r'.repeat(n / 2)}",tail\n`;
  for (const csv of [true, false]) {
    const small = csv ? `a,b,c\n${line(1 << 21)}x,y,z\n` : `{"a":1}\n{"k":"${'z'.repeat(1 << 21)}"}\n{"b":2}\n`;
    const big = csv ? `a,b,c\n${line(1 << 23)}x,y,z\n` : `{"a":1}\n{"k":"${'z'.repeat(1 << 23)}"}\n{"b":2}\n`;
    const s = chunk(small, csv, 1024, 1024);
    const b = chunk(big, csv, 1024, 1024);
    assert.equal(b.chunks.join(''), big);
    // Scanned once (1×) and copied once (1×): at most 2× the input, for any record length.
    assert.ok(b.work <= 2 * b.bytes, `work ${b.work} for ${b.bytes} bytes (csv ${csv})`);
    // And 4× the input costs 4× the work (a quadratic chunker would take 16×).
    const ratio = b.work / s.work;
    assert.ok(ratio > 3 && ratio < 5, `work ratio ${ratio.toFixed(2)} for a 4× longer line`);
  }
});

const dir = mkdtempSync(join(tmpdir(), 'saltshard-chunker-'));

function cli(args: string[]) {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  const argv = g.Deno ? ['run', '-A', '--no-lock', join(ROOT, 'src', 'bin.ts'), ...args] : g.Bun ? [join(ROOT, 'src', 'bin.ts'), ...args] : [join(ROOT, 'bin', 'saltshard'), ...args];
  // 1 KiB chunks and reads: an 8 MiB line arrives in 8,192 pieces (the old chunker copied ~34 GB for it).
  const r = spawnSync(process.execPath, argv, { encoding: 'utf8', cwd: ROOT, maxBuffer: 64 << 20, timeout: 240_000, env: { ...process.env, SALTSHARD_ASSIGN_CHUNK_BYTES: '1024' } });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

t('assign: an 8 MiB line among good rows and a bad one (NDJSON and CSV): every good row written, the bad line numbered', () => {
  const config = join(ROOT, 'examples', 'flags.json');
  const huge = 'h'.repeat(8 << 20);
  const nd = join(dir, 'in.ndjson');
  const rows = [
    ...Array.from({ length: 500 }, (_, i) => JSON.stringify({ subjectKey: `a${i}`, subjectAttributes: { country: 'US' } })),
    JSON.stringify({ subjectKey: 'huge', subjectAttributes: { blob: huge } }),
    '{"subjectKey": broken',
    ...Array.from({ length: 500 }, (_, i) => JSON.stringify({ subjectKey: `b${i}`, subjectAttributes: { country: 'FR' } })),
  ];
  writeFileSync(nd, `${rows.join('\n')}\n`);
  const csvPath = join(dir, 'in.csv');
  const csvRows = ['subjectKey,country,blob', ...Array.from({ length: 500 }, (_, i) => `a${i},US,x`), `huge,DE,"${huge}\n${huge}"`, 'bad,"unterminated,x', ''];
  // The huge record spans lines 502–503; the unterminated quote on line 504 runs to the end of the file.
  writeFileSync(csvPath, csvRows.join('\n'));
  for (const [path, format, bad, good] of [[nd, 'ndjson', 502, 1001], [csvPath, 'csv', 504, 501]] as const) {
    const r = cli(['assign', '--config', config, '--input', path, '--input-format', format, '--layout', 'wide', '--format', 'ndjson']);
    assert.equal(r.error, undefined, String(r.error));
    assert.equal(r.code, 65, r.stderr.slice(0, 2000));
    assert.match(r.stderr, new RegExp(`line ${bad}\\b`), r.stderr.slice(0, 2000));
    const keys = r.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { subjectKey: string }).subjectKey);
    assert.equal(keys.length, good, `${format}: good rows written`);
    assert.ok(keys.includes('huge'));
    assert.equal(keys[keys.length - 1], format === 'ndjson' ? 'b499' : 'huge');
  }
});

t.after(() => rmSync(dir, { recursive: true, force: true }));
t.run();
