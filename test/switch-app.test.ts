// A user's program written against @eppo/node-server-sdk (test/fixtures/switch-app/app.ts, and app.mjs its
// JavaScript twin), set up as a user would have it: its own directory, the SDKs under node_modules. It must
// type-check with a standalone `tsc --noEmit` as is and with only the import line changed to 'saltshard', and both
// versions must print the same values, details and logged events against the local fake Eppo server: the .mjs under
// Node, the .ts directly under Bun and Deno.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { configText, startFakeEppo } from './fake-eppo.ts';
import { ROOT } from './support.ts';

const g = globalThis as { Bun?: unknown; Deno?: unknown };
const runtime = g.Deno ? 'deno' : g.Bun ? 'bun' : 'node';
const FIXTURE = join(ROOT, 'test', 'fixtures', 'switch-app');
const EPPO_IMPORT = "from '@eppo/node-server-sdk';";

/** A user's project directory: package.json, the program as written (eppo.*) and with the import changed (saltshard.*). */
function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'saltshard-switch-app-'));
  mkdirSync(join(dir, 'node_modules', '@eppo'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules', 'saltshard'), 'dir');
  for (const p of ['@eppo/node-server-sdk', '@eppo/js-client-sdk-common', '@types']) symlinkSync(join(ROOT, 'node_modules', p), join(dir, 'node_modules', p), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'switch-app', private: true, type: 'module' }));
  for (const ext of ['ts', 'mjs']) {
    const text = readFileSync(join(FIXTURE, `app.${ext}`), 'utf8');
    assert.ok(text.includes(EPPO_IMPORT), `app.${ext} imports @eppo/node-server-sdk`);
    writeFileSync(join(dir, `eppo.${ext}`), text);
    writeFileSync(join(dir, `saltshard.${ext}`), text.replace(EPPO_IMPORT, "from 'saltshard';"));
  }
  return dir;
}

/** Run a program (asynchronously: the fake server answers from this process) and return its output line. */
function run(cmd: string, args: string[], cwd: string, baseUrl: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, EPPO_BASE_URL: baseUrl, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      // Eppo's SDK logs JSON lines to stdout too; the program prints one object with `lines`.
      const line = out.split('\n').find((l) => l.startsWith('{"lines"'));
      if (code !== 0 || line === undefined) reject(new Error(`${args.join(' ')} exited ${code}:\n${out}\n${err}`));
      else resolve(JSON.parse(line));
    });
  });
}

const dir = project();

if (runtime === 'node') {
  test('tsc --noEmit passes on the TypeScript program as written for Eppo and with only the import changed', () => {
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({
      compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'nodenext', moduleResolution: 'nodenext', types: ['node'], skipLibCheck: false },
      files: ['eppo.ts', 'saltshard.ts'],
    }));
    const r = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8' });
    assert.is(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
  });
}

test(`the program prints the same with Eppo's SDK and with saltshard (${runtime === 'node' ? 'app.mjs under Node' : `app.ts under ${runtime}`})`, async () => {
  const fake = await startFakeEppo(configText(1));
  try {
    const [cmd, pre, ext] = runtime === 'deno' ? [process.execPath, ['run', '-A', '--no-lock'], 'ts'] : [process.execPath, [], runtime === 'bun' ? 'ts' : 'mjs'];
    const theirs = (await run(cmd, [...pre, `eppo.${ext}`], dir, fake.baseUrl)) as { lines: unknown[]; events: unknown[] };
    const ours = (await run(cmd, [...pre, `saltshard.${ext}`], dir, fake.baseUrl)) as { lines: unknown[]; events: unknown[] };
    assert.ok(theirs.lines.length >= 20 && theirs.events.length >= 3, `the program exercised the API (${theirs.lines.length} lines, ${theirs.events.length} events)`);
    const differing = theirs.lines.filter((line, i) => JSON.stringify(line) !== JSON.stringify(ours.lines[i]));
    assert.equal(differing, [], 'every line equal');
    assert.equal(ours, theirs);
  } finally {
    await fake.close();
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
