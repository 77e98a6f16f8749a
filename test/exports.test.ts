// package.json (npm, compiled dist/) and jsr.json (JSR, .ts sources) must publish the same subpaths, each
// pointing at the same module, and every JSR entry must pass `deno check`.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, readJson } from './support.ts';

const t = suite('exports');
type Conditions = { types?: string; default?: string; [condition: string]: string | undefined };
const pkg = readJson<{ version: string; types: string; main: string; exports: Record<string, string | Conditions> }>(ROOT, 'package.json');
const jsr = readJson<{ version: string; exports: Record<string, string> }>(ROOT, 'jsr.json');

/** The .ts source of a package.json subpath: ./dist/src/x.js → ./src/x.ts. */
function sourceOf(target: string | Conditions): string | null {
  const js = typeof target === 'string' ? target : target.default;
  const m = js === undefined ? null : /^\.\/dist\/(src\/.+)\.js$/.exec(js);
  return m ? `./${m[1]}.ts` : null;
}

/** package.json subpaths that are modules (not ./package.json), with the .ts file each should map to on JSR. */
const npmModules = Object.entries(pkg.exports).flatMap(([sub, target]) => (sub === './package.json' ? [] : [[sub, sourceOf(target)] as const]));

const HOW = 'Each subpath export lives in both files: package.json "exports" ("./x": {"types": "./dist/src/x.d.ts", "default": "./dist/src/x.js"}) '
  + 'and jsr.json "exports" ("./x": "./src/x.ts"). For example issue 14 adds "./testing" and issue 17 adds "./sinks" to both.';

t('every package.json subpath is in jsr.json, pointing at its .ts source', () => {
  for (const [sub, source] of npmModules) {
    assert.ok(source !== null, `package.json exports "${sub}" must point at ./dist/src/<name>.js. ${HOW}`);
    assert.equal(jsr.exports[sub], source, `jsr.json exports "${sub}" must be "${source}" (as package.json exports it). ${HOW}`);
  }
});

t('every jsr.json subpath is in package.json', () => {
  const npm = new Map(npmModules);
  for (const [sub, source] of Object.entries(jsr.exports)) {
    assert.ok(npm.has(sub), `jsr.json exports "${sub}" (${source}) but package.json does not. ${HOW}`);
    assert.ok(existsSync(join(ROOT, source)), `jsr.json exports "${sub}" as ${source}, which does not exist`);
  }
});

t('every package.json module subpath has types beside it; top-level types and main are the root export', () => {
  for (const [sub, target] of Object.entries(pkg.exports)) {
    if (sub === './package.json') continue;
    assert.equal(typeof target, 'object', `package.json exports "${sub}" needs {"types", "default"} conditions`);
    const c = target as Conditions;
    assert.equal(c.types, c.default!.replace(/\.js$/, '.d.ts'), `package.json exports "${sub}": "types" must come with "default"`);
    assert.equal(Object.keys(c).at(-1), 'default', `package.json exports "${sub}": "default" must be the last condition`);
  }
  const root = pkg.exports['.'] as Conditions;
  assert.equal(pkg.types, root.types);
  assert.equal(pkg.main, root.default);
});

t('package.json and jsr.json carry the same version', () => {
  assert.equal(jsr.version, pkg.version);
});

t('deno check passes on every JSR entry point', () => {
  const deno = join(ROOT, 'node_modules', '.bin', 'deno');
  if (!existsSync(deno)) {
    console.log('SKIP deno check: node_modules/.bin/deno not installed');
    return;
  }
  const files = Object.values(jsr.exports);
  const r = spawnSync(deno, ['check', '--quiet', ...files], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  assert.equal(r.status, 0, `deno check ${files.join(' ')} failed:\n${r.stdout}${r.stderr}`);
});

/**
 * Third-party types a public signature may name without deno doc documenting them: the Hono app of
 * saltshard/server and the OpenFeature provider interface saltshard/openfeature implements (a user passes the
 * provider to OpenFeature's own API, so its signatures must be OpenFeature's types, not look-alikes).
 */
const THIRD_PARTY_TYPES = new Set(['Hono', 'Provider', 'OpenFeatureEventEmitter', 'EvaluationContext', 'Logger', 'ResolutionDetails', 'JsonValue']);

t('deno doc --lint: every public symbol of every JSR entry point is documented and names only public types', () => {
  const deno = join(ROOT, 'node_modules', '.bin', 'deno');
  if (!existsSync(deno)) {
    console.log('SKIP deno doc --lint: node_modules/.bin/deno not installed');
    return;
  }
  const files = Object.values(jsr.exports);
  const r = spawnSync(deno, ['doc', '--lint', ...files], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  const text = `${r.stdout}${r.stderr}`;
  const problems: string[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^error\[([\w-]+)\]: (.*)$/.exec(lines[i]!);
    if (!m) continue;
    const at = lines.slice(i + 1, i + 4).find((l) => l.includes('-->'))?.trim() ?? '';
    const privateRef = m[1] === 'private-type-ref' ? /references private type '([^']+)'/.exec(m[2]!) : null;
    if (privateRef && THIRD_PARTY_TYPES.has(privateRef[1]!)) continue;
    problems.push(`${m[1]}: ${m[2]} ${at}`);
  }
  assert.deepEqual(problems, [], `deno doc --lint ${files.join(' ')}: document each symbol with JSDoc and export every type a public signature names`);
  assert.ok(r.status === 0 || /private-type-ref/.test(text), `deno doc --lint failed to run:\n${text.slice(0, 2000)}`);
});

t.run();
