// Every benchmark row that reads results is checked, untimed: bench/main.ts in BENCH_CHECK mode runs each row's own
// function a few samples on a small pool and compares its running checksum with the reference evaluator's answers
// for exactly the calls it made (and stops on the first mismatch), so a row can never time skipped work.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './support.ts';

const t = suite('bench checksums');

function benchCommand(): [string, string[]] {
  const g = globalThis as { Deno?: { execPath(): string }; Bun?: unknown };
  if (g.Deno) return [g.Deno.execPath(), ['run', '-A', '--no-lock', join(ROOT, 'bench', 'main.ts')]];
  if (g.Bun) return [process.execPath, [join(ROOT, 'bench', 'main.ts')]];
  return [process.execPath, ['--expose-gc', join(ROOT, 'dist', 'bench', 'main.js')]];
}

t('every benchmark row that reads results sums to the reference evaluator\'s checksum', () => {
  const [cmd, args] = benchCommand();
  const r = spawnSync(cmd, args, {
    cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 240_000,
    env: { ...process.env, BENCH_CHECK: '1', BENCH_SUBJECTS: '3000', BENCH_PART: 'main', NO_COLOR: '1' },
  });
  assert.equal(r.status, 0, `bench exited ${r.status}: ${(r.stderr ?? '').slice(-2000)}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  assert.ok(line, 'a BENCH_JSON line');
  const res = JSON.parse(line.slice('BENCH_JSON '.length)) as { rows: { name: string; group: string }[]; checksums: Record<string, { got: number; want: number }> };
  const checked = Object.keys(res.checksums);
  // Every saltshard getter row, Eppo's and the plain-JS evaluator's, and every batch row that reads its values.
  const must = res.rows.filter((row) => (row.group === 'getter' && !/GrowthBook|flagd/.test(row.name)) || (row.group === 'batch' && !row.name.includes('results not read')));
  assert.ok(must.length >= 10, `rows found: ${must.map((x) => x.name).join('; ')}`);
  for (const row of must) {
    assert.ok(checked.includes(row.name), `row "${row.name}" has a checksum`);
    const c = res.checksums[row.name]!;
    assert.ok(c.want > 0, `row "${row.name}" read results`);
    assert.equal(c.got, c.want, row.name);
  }
  // The old rows that read nothing say so in their names.
  for (const row of res.rows.filter((x) => x.group === 'batch' && !checked.includes(x.name))) assert.match(row.name, /results not read/);
});

t.run();
