// The package as users get it: `npm pack`, install the tarball into a fresh project (offline: the tarball is local,
// its dependencies come from npm's cache), then use every subpath from that project: Node ESM and require() on
// Node, TypeScript `tsc --noEmit` with no @types/node in each moduleResolution, the ES module on Bun and Deno.
// Every runtime must give the answers the repository's own sources give.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { pathToFileURL } from 'node:url';
import { parseCsv } from '../src/cli/csv.ts';
import * as saltshard from '../src/mod.ts';
import * as openfeature from '../src/openfeature.ts';
import * as redis from '../src/redis.ts';
import * as server from '../src/server.ts';
import * as sinks from '../src/sinks.ts';
import * as testing from '../src/testing.ts';
import { ROOT, readJson } from './support.ts';

const t = suite('package');
const g = globalThis as { Bun?: unknown; Deno?: unknown };
const runtime = g.Deno ? 'deno' : g.Bun ? 'bun' : 'node';
const FIXTURES = join(ROOT, 'test', 'fixtures', 'consumer');
const work = mkdtempSync(join(tmpdir(), 'saltshard-package-'));
const app = join(work, 'app');
/** Peer dependencies a user installs for the server and OpenFeature subpaths, at the repository's versions. */
const PEERS = ['hono', '@hono/node-server', '@openfeature/server-sdk', '@openfeature/core'];

function sh(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env }, maxBuffer: 64 << 20 });
  return { code: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

let installed: string | null = null;
let installLog = '';

t.before(() => {
  if (!existsSync(join(ROOT, 'dist', 'src', 'mod.js'))) {
    installed = 'SKIP package: dist/ not built (npm run build)';
    return;
  }
  // The repository is built already; --ignore-scripts packs it as it is.
  const pack = sh('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT);
  assert.equal(pack.code, 0, `npm pack failed:\n${pack.out}`);
  const tarball = join(work, (JSON.parse(pack.stdout) as { filename: string }[])[0]!.filename);
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  for (const f of readdirSync(FIXTURES)) copyFileSync(join(FIXTURES, f), join(app, f));
  const peers = PEERS.map((p) => `${p}@${readJson<{ version: string }>(ROOT, 'node_modules', p, 'package.json').version}`);
  const install = sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel', 'warn', tarball, ...peers], app);
  installLog = install.out;
  if (install.code !== 0 && /ENOTCACHED|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ETIMEDOUT/.test(install.out)) {
    installed = `SKIP package: npm could not get the dependencies (offline, not in npm's cache):\n${install.out}`;
    return;
  }
  assert.equal(install.code, 0, `npm install of the tarball failed:\n${install.out}`);
});

t.after(() => rmSync(work, { recursive: true, force: true }));

/** False (with the SKIP line printed) when the consumer project could not be set up. */
function ready(): boolean {
  if (installed === null) return true;
  console.log(installed);
  return false;
}

async function expected() {
  const { answers, moreAnswers } = await import(pathToFileURL(join(FIXTURES, 'answers.mjs')).href);
  const config = readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8');
  // As the consumer prints it: through JSON.
  return JSON.parse(JSON.stringify({ version: saltshard.SDK_VERSION, serve: 'function', ...(await answers(saltshard, server, openfeature, config)), ...moreAnswers(testing, sinks, redis) }));
}

function lastJson(out: string): unknown {
  const line = out.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line);
  } catch {
    return `not JSON: ${out}`;
  }
}

t('installing the tarball prints no warning about saltshard, and ships what users run', () => {
  if (!ready()) return;
  const warnings = installLog.split('\n').filter((l) => /warn/i.test(l) && /saltshard/i.test(l));
  assert.deepEqual(warnings, [], `npm install warned about the package:\n${installLog}`);
  const pkg = join(app, 'node_modules', 'saltshard');
  for (const f of ['dist/src/mod.js', 'dist/src/mod.d.ts', 'dist/src/mod.js.map', 'dist/src/server.js', 'dist/src/openfeature.js', 'dist/src/workerd.js', 'dist/src/wasm/simd.wasm', 'dist/src/wasm/release.wasm', 'src/mod.ts', 'src/bin.ts', 'examples/flags.json', 'bin/saltshard', 'README.md', 'LICENSE']) {
    assert.ok(existsSync(join(pkg, f)), `the tarball lacks ${f}`);
  }
  assert.ok(!existsSync(join(pkg, 'test')) && !existsSync(join(pkg, 'dist', 'test')), 'the tarball must not ship tests');
  const map = JSON.parse(readFileSync(join(pkg, 'dist', 'src', 'mod.js.map'), 'utf8')) as { sources: string[] };
  for (const s of map.sources) assert.ok(existsSync(join(pkg, 'dist', 'src', s)), `source map points at ${s}, not in the tarball`);
});

if (runtime === 'node') {
  t('Node: import of every subpath gives the answers of the sources', async () => {
    if (!ready()) return;
    const r = sh(process.execPath, ['use.mjs'], app);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(lastJson(r.stdout), await expected());
    assert.equal(r.stderr, '', 'no warnings on stderr');
  });

  t('Node: require() of every subpath gives the same answers', async () => {
    if (!ready()) return;
    const r = sh(process.execPath, ['use.cjs'], app);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(lastJson(r.stdout), await expected());
  });

  t('Node: the installed saltshard command runs and writes Parquet with the dependencies it ships with', async () => {
    if (!ready()) return;
    const bin = join(app, 'node_modules', '.bin', 'saltshard');
    const r = sh(bin, ['--version'], app);
    assert.equal(r.code, 0, r.out);
    assert.equal(r.stdout.trim(), saltshard.SDK_VERSION);
    // Parquet output is the package's own encoder (src/cli/parquet.ts); the writer library is a dev dependency only.
    assert.ok(!existsSync(join(app, 'node_modules', 'hyparquet-writer')), 'hyparquet-writer must not be installed for users');
    const args = ['assign', '--config', join(ROOT, 'examples', 'flags.json'), '--input', join(ROOT, 'examples', 'subjects.ndjson')];
    const parquet = join(work, 'out.parquet');
    const out = sh(bin, [...args, '--format', 'parquet', '--output', parquet], app);
    assert.equal(out.code, 0, out.out);
    const csv = sh(bin, [...args, '--format', 'csv'], app);
    assert.equal(csv.code, 0, csv.out);
    const { asyncBufferFromFile, parquetReadObjects } = await import('hyparquet');
    const rows = await parquetReadObjects({ file: await asyncBufferFromFile(parquet) });
    const records: string[][] = [];
    parseCsv(csv.stdout, (fields) => records.push([...fields!]));
    const header = records.shift()!;
    assert.ok(records.length > 0);
    assert.deepEqual(rows.map((row) => header.map((h) => String(row[h] ?? ''))), records);
  });

  for (const [resolution, module] of [['bundler', 'esnext'], ['node16', 'node16'], ['nodenext', 'nodenext']] as const) {
    t(`TypeScript moduleResolution ${resolution}: tsc --noEmit passes with no @types/node`, () => {
      if (!ready()) return;
      const tsconfig = `tsconfig.${resolution}.json`;
      writeFileSync(join(app, tsconfig), JSON.stringify({
        compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module, moduleResolution: resolution, types: [], skipLibCheck: false },
        files: ['use.ts'],
      }));
      assert.ok(!existsSync(join(app, 'node_modules', '@types', 'node')), 'the consumer must not have @types/node');
      const r = sh(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', tsconfig], app);
      // @openfeature/server-sdk's own declarations import node:events: that peer needs @types/node, ours must not.
      const errors = r.out.split('\n').filter((l) => /error TS/.test(l) && !l.startsWith('node_modules/@openfeature/'));
      assert.deepEqual(errors, [], `tsc (${resolution}) failed:\n${r.out}`);
      assert.ok(r.code === 0 || /node_modules\/@openfeature\//.test(r.out), r.out);
    });
  }
}

if (runtime === 'bun') {
  t('Bun: import and require() of every subpath give the answers of the sources', async () => {
    if (!ready()) return;
    for (const file of ['use.mjs', 'use.cjs']) {
      const r = sh(process.execPath, [file], app);
      assert.equal(r.code, 0, r.out);
      assert.deepEqual(lastJson(r.stdout), await expected(), file);
    }
  });
}

if (runtime === 'deno') {
  t('Deno: import of every subpath gives the answers of the sources; deno check passes on the TypeScript consumer', async () => {
    if (!ready()) return;
    const r = sh(process.execPath, ['run', '-A', '--no-lock', 'use.mjs'], app);
    assert.equal(r.code, 0, r.out);
    assert.deepEqual(lastJson(r.stdout), await expected());
    const check = sh(process.execPath, ['check', '--no-lock', 'use.ts'], app);
    assert.equal(check.code, 0, check.out);
  });
}

t.run();
