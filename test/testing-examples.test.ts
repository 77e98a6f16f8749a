// The README's example tests for saltshard/testing (examples/testing/), run by their own runtime's test runner:
// under Node this file runs `node --test` on the Node example, under Bun `bun test` on the Bun one, under Deno
// `deno test` on the Deno one, so `npm test` runs each example once, as a user would.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import process from 'node:process';
import { ROOT } from './support.ts';

const g = globalThis as { Bun?: unknown; Deno?: unknown };
const runtime = g.Deno ? 'deno' : g.Bun ? 'bun' : 'node';
const examples = join(ROOT, 'examples', 'testing');
const bin = (name: string) => join(ROOT, 'node_modules', '.bin', name);

const commands = {
  node: { cmd: process.execPath, args: ['--test', join(examples, 'checkout.node.test.mjs')], passed: /^# pass (\d+)$/m, failed: /^# fail (\d+)$/m },
  bun: { cmd: bin('bun'), args: ['test', join(examples, 'checkout.bun.test.ts')], passed: /^\s*(\d+) pass$/m, failed: /^\s*(\d+) fail$/m },
  deno: {
    cmd: bin('deno'),
    args: ['test', '-A', '--no-lock', '--import-map', join(examples, 'import_map.json'), join(examples, 'checkout.deno.test.ts')],
    passed: /(\d+) passed/,
    failed: /(\d+) failed/,
  },
}[runtime];

test(`examples/testing: the ${runtime} example passes under ${runtime}'s own test runner`, () => {
  const r = spawnSync(commands.cmd, commands.args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, timeout: 240_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  assert.is(r.status, 0, `${runtime} test runner failed:\n${out}`);
  assert.is(Number(commands.passed.exec(out)?.[1]), 3, `three tests passed:\n${out}`);
  assert.is(Number(commands.failed.exec(out)?.[1]), 0);
});

test.run();
