#!/usr/bin/env node
// Runs every test/*.test.ts file under Node (compiled output in dist/), Bun and Deno, one process per
// file and runtime, and ends with the plain line "N passed, N failed" that uvu does not print itself.
// Usage: node scripts/run-tests.mjs [--runtime node|bun|deno ...] [--slow] [filter]
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const args = process.argv.slice(2);
const runtimes = [];
let filter = '';
let slow = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--runtime') runtimes.push(args[++i]);
  else if (args[i] === '--slow') slow = true;
  else filter = args[i];
}
if (runtimes.length === 0) runtimes.push('node', 'bun', 'deno');

const files = readdirSync(join(root, 'test'))
  .filter((f) => f.endsWith('.test.ts') && f.includes(filter) && (slow || !f.startsWith('slow-')))
  .sort();

const commands = {
  node: (f) => [process.execPath, [join(root, 'dist', 'test', f.replace(/\.ts$/, '.js'))]],
  bun: (f) => [bin('bun'), [join(root, 'test', f)]],
  deno: (f) => [bin('deno'), ['run', '-A', '--no-lock', join(root, 'test', f)]],
};

// A hung file is killed and counted as failed, so a run always ends.
const FILE_TIMEOUT_MS = 300_000;

let passed = 0;
let failed = 0;
let skipped = 0;
for (const runtime of runtimes) {
  for (const file of files) {
    const [cmd, argv] = commands[runtime](file);
    const started = Date.now();
    const r = spawnSync(cmd, argv, { cwd: root, encoding: 'utf8', maxBuffer: 256 << 20, timeout: FILE_TIMEOUT_MS, killSignal: 'SIGKILL', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } });
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
    const num = (label) => [...out.matchAll(new RegExp(`${label}:\\s+(\\d+)`, 'g'))].reduce((s, m) => s + Number(m[1]), 0);
    const total = num('Total');
    const ok = num('Passed');
    const skip = num('Skipped');
    // uvu's Total leaves skipped tests out.
    let bad = total - ok;
    if (r.error?.code === 'ETIMEDOUT') console.log(`    killed after ${FILE_TIMEOUT_MS / 1000} s`);
    // A crash before or after uvu's summary still counts as a failure.
    if (r.status !== 0 && bad === 0) bad = 1;
    passed += ok;
    failed += bad;
    skipped += skip;
    const secs = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`${bad ? 'FAIL' : 'ok  '} ${runtime.padEnd(4)} ${file.padEnd(32)} ${ok} passed, ${bad} failed, ${skip} skipped (${secs}s)`);
    if (bad) console.log(out.split('\n').map((l) => `    ${l}`).join('\n'));
    else for (const line of out.split('\n')) if (line.startsWith('SKIP')) console.log(`    ${line}`);
  }
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exitCode = failed ? 1 : 0;
