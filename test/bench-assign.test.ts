// The bulk-assignment benchmark's validation path, untimed: bench/assign.mjs --check on 10,000 subjects loads them
// into DuckDB (and ClickHouse, when chdb is installed in test/engines), materializes `saltshard sql`'s long and wide
// queries and checks every row against `saltshard assign`'s output, so the benchmark cannot rot between its runs;
// then bench/parquet.mjs --check (Parquet input and output against CSV).
// bench/assign.mjs is a Node script over dist/: it runs on the Node pass only.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './support.ts';

const t = suite('bench assign --check');
const g = globalThis as { Deno?: unknown; Bun?: unknown };

if (g.Deno || g.Bun) {
  console.log('SKIP bench/assign.mjs --check: a Node script over dist/, checked on the Node run');
} else {
  t('every engine\'s materialized table equals saltshard assign\'s rows, both layouts', () => {
    const r = spawnSync(process.execPath, [join(ROOT, 'bench', 'assign.mjs'), '10000', '--check'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 << 20, timeout: 240_000 });
    assert.equal(r.status, 0, `exit ${r.status}: ${r.stdout.slice(-2000)}${r.stderr.slice(-2000)}`);
    const engines = ['DuckDB'];
    if (r.stdout.includes('SKIP ClickHouse')) console.log(r.stdout.split('\n').find((l) => l.startsWith('SKIP ClickHouse')));
    else engines.push('ClickHouse');
    for (const engine of engines) {
      for (const [layout, rows] of [['long', 30000], ['wide', 10000]] as const) {
        const line = r.stdout.split('\n').find((l) => l.startsWith(`validate ${engine} --layout ${layout}:`));
        assert.ok(line, `${engine} ${layout} validated`);
        const [table, file] = line.slice(line.indexOf(':') + 2).split(' vs ');
        assert.match(table!, new RegExp(`^${rows} rows, hash sum \\d+ \\(table\\)$`));
        assert.equal(file, table!.replace('(table)', "(saltshard assign's file)"));
      }
    }
    assert.match(r.stdout, /check passed: DuckDB/);
    // bench/parquet.mjs's validation (run by assign.mjs): Parquet in → the same CSV bytes; Parquet out read by DuckDB.
    for (const from of ['csv', 'parquet']) {
      for (const [layout, rows] of [['long', 30000], ['wide', 10000]] as const) {
        assert.ok(r.stdout.includes(`validate ${from} → parquet --layout ${layout}: ${rows} rows in DuckDB, 0 not in the CSV output, 0 of the CSV output missing`), `${from} → parquet ${layout}`);
      }
    }
    assert.match(r.stdout, /check passed: Parquet input gives the same CSV bytes/);
  });
}

t.run();
