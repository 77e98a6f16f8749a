// Unix conventions of the `saltshard` command, run as a child process of the runtime under test: a closed pipe
// ends quietly with status 0, usage on stderr without a command, help per command, the version, SALTSHARD_*
// environment variables, options and files named in errors, one summary, documented exit codes.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { EXIT_CODES_TEXT } from '../src/cli/common.ts';
import { SDK_VERSION } from '../src/version.ts';
import { closedPort, configText, startFakeEppo } from './fake-eppo.ts';
import { ROOT } from './support.ts';

const t = suite('cli-conventions');
const dir = mkdtempSync(join(tmpdir(), 'saltshard-conventions-'));
const CONFIG = join(ROOT, 'examples', 'flags.json');
const SUBJECTS = join(ROOT, 'examples', 'subjects.ndjson');
const g = globalThis as { Bun?: unknown; Deno?: unknown };

/** The command line of the CLI on this runtime: Node through bin/saltshard (compiled), Bun and Deno from source. */
function argv(args: string[]): string[] {
  return g.Deno ? ['run', '-A', '--no-lock', join(ROOT, 'src', 'bin.ts'), ...args]
    : g.Bun ? [join(ROOT, 'src', 'bin.ts'), ...args]
    : [join(ROOT, 'bin', 'saltshard'), ...args];
}

/** The environment without the caller's SALTSHARD_* variables, plus `env`. */
function environment(env: Record<string, string>): Record<string, string | undefined> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SALTSHARD_')));
  return { ...clean, NO_COLOR: '1', ...env };
}

function run(args: string[], env: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, argv(args), { encoding: 'utf8', cwd: ROOT, env: environment(env), maxBuffer: 256 << 20 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function runAsync(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv(args), { cwd: ROOT, env: environment(env) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

t('assign … | head -1: the closed pipe ends the run quietly, status 0 (in-process and with workers)', () => {
  const big = join(dir, 'big.ndjson');
  const line = readFileSync(SUBJECTS, 'utf8').split('\n')[0]!;
  writeFileSync(big, Array.from({ length: 40_000 }, (_, i) => line.replace('"user-1"', `"user-${i}"`)).join('\n'));
  for (const workers of ['1', '2']) {
    const cmd = [process.execPath, ...argv(['assign', '--config', CONFIG, '--input', big, '--workers', workers])].map(shellQuote).join(' ');
    const r = spawnSync('bash', ['-c', `${cmd} | head -1; echo "status=\${PIPESTATUS[0]}" >&2`], { encoding: 'utf8', cwd: ROOT, env: environment({}) });
    assert.equal(r.stdout.split('\n').filter(Boolean).length, 1, r.stdout.slice(0, 500));
    assert.ok(JSON.parse(r.stdout).subjectKey === 'user-0');
    assert.equal(r.stderr, 'status=0\n', `--workers ${workers}: ${r.stderr}`);
  }
});

t('no command: usage on stderr, nothing on stdout, status 64', () => {
  const r = run([]);
  assert.equal(r.code, 64);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /Usage:\n {2}saltshard assign/);
});

t('--help and help: the whole usage with the exit codes on stdout, status 0', () => {
  for (const args of [['--help'], ['-h'], ['help']]) {
    const r = run(args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    for (const c of ['assign', 'sql', 'serve']) assert.match(r.stdout, new RegExp(`saltshard ${c}`));
    assert.ok(r.stdout.includes(EXIT_CODES_TEXT), 'the exit codes are in --help');
  }
});

t('help COMMAND and COMMAND --help: that command\'s usage only, on stdout, status 0', () => {
  for (const c of ['assign', 'sql', 'serve']) {
    const a = run(['help', c]);
    const b = run([c, '--help']);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(a.stdout, b.stdout);
    assert.match(a.stdout, new RegExp(`^Usage:\\n {2}saltshard ${c} `));
    for (const other of ['assign', 'sql', 'serve'].filter((o) => o !== c)) assert.doesNotMatch(a.stdout, new RegExp(`^ {2}saltshard ${other} `, 'm'));
  }
  const bad = run(['help', 'nope']);
  assert.equal(bad.code, 64);
  assert.match(bad.stderr, /unknown command "nope"/);
});

t('--version, -V and version print the version, status 0', () => {
  for (const args of [['--version'], ['-V'], ['version']]) {
    const r = run(args);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `${SDK_VERSION}\n`);
  }
});

t('unknown, malformed and repeated options name themselves and the command\'s help, status 64', () => {
  const cases: [string[], RegExp][] = [
    [['assign', '--config', CONFIG, '--input', SUBJECTS, '--bogus'], /^saltshard assign: unknown option --bogus\nRun "saltshard assign --help" for usage\.\n$/],
    [['assign', '--config', CONFIG, '--input'], /^saltshard assign: option --input needs a value\n/],
    [['assign', '--config', CONFIG, '--input', SUBJECTS, '--input', SUBJECTS], /^saltshard assign: option --input given more than once\n/],
    [['assign', '--config', CONFIG, '--input', SUBJECTS, 'extra'], /^saltshard assign: unexpected argument extra/],
    [['sql', '--dialect', 'duckdb', '--config', CONFIG, '--columns', 'foo'], /^saltshard sql: --columns: "foo" should be NAME:TYPE/],
    [['sql', '--dialect', 'duckdb', '--config', CONFIG, '--columns', 'a:string,a:integer'], /^saltshard sql: --columns: "a" is listed more than once/],
    [['sql', '--dialect', 'duckdb', '--dialect', 'postgres', '--config', CONFIG], /^saltshard sql: option --dialect given more than once/],
    [['serve', '--port', 'x'], /^saltshard serve: --port must be an integer/],
    [['nope'], /^saltshard: unknown command "nope" \(commands: assign, sql, serve/],
  ];
  for (const [args, message] of cases) {
    const r = run(args);
    assert.equal(r.code, 64, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    assert.match(r.stderr, /Run "saltshard( \w+)? --help" for usage\.\n$/);
    assert.equal(r.stdout, '');
  }
});

t('a missing or unreadable file is named, with the reason in words', () => {
  const missing = join(dir, 'no-such-subjects.ndjson');
  const input = run(['assign', '--config', CONFIG, '--input', missing]);
  assert.equal(input.code, 66);
  assert.equal(input.stderr, `saltshard: cannot read input ${missing}: no such file or directory (ENOENT)\n`);
  const config = run(['assign', '--config', join(dir, 'nope.json'), '--input', SUBJECTS]);
  assert.equal(config.code, 78);
  assert.match(config.stderr, /^saltshard: cannot use config \S+nope\.json: no such file or directory \(ENOENT\)\n$/);
  const sql = run(['sql', '--dialect', 'duckdb', '--config', join(dir, 'nope.json')]);
  assert.equal(sql.code, 78);
  assert.match(sql.stderr, /nope\.json: no such file or directory/);
  const folder = run(['assign', '--config', CONFIG, '--input', dir]);
  assert.equal(folder.code, 66);
  assert.match(folder.stderr, /is a directory \(EISDIR\)/);
  const out = run(['assign', '--config', CONFIG, '--input', SUBJECTS, '--output', join(dir, 'no', 'dir', 'out.ndjson')]);
  assert.equal(out.code, 73);
  assert.match(out.stderr, /cannot write \S+out\.ndjson: no such file or directory/);
});

t('one summary per run, on stderr', () => {
  const r = run(['assign', '--config', CONFIG, '--input', SUBJECTS]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr.match(/rows in /g)?.length, 1, r.stderr);
  assert.match(r.stderr, /^saltshard: rows in 8, rows written 8 \(48 assignment rows: 8 subjects x 6 flags\), bad rows 0; /);
});

t('SALTSHARD_API_KEY and SALTSHARD_BASE_URL work for assign; the key is never echoed; --config wins over an exported key', async () => {
  const key = 'secret-sdk-key-7f3a';
  const server = await startFakeEppo(configText(5));
  try {
    const r = await runAsync(['assign', '--input', SUBJECTS], { SALTSHARD_API_KEY: key, SALTSHARD_BASE_URL: server.baseUrl });
    assert.equal(r.code, 0, r.stderr);
    const rows = r.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { flagKey: string; value: unknown });
    assert.deepEqual(rows.filter((x) => x.flagKey === 'config-version').map((x) => x.value), new Array(8).fill(5));
    assert.equal(server.configRequests().length, 1);
    assert.equal(server.configRequests()[0]!.query.apiKey, key, 'the key from the environment reached Eppo');
  } finally {
    await server.close();
  }
  const port = await closedPort();
  const failed = await runAsync(['assign', '--input', SUBJECTS], { SALTSHARD_API_KEY: key, SALTSHARD_BASE_URL: `http://127.0.0.1:${port}/api` });
  assert.equal(failed.code, 78, failed.stderr);
  assert.match(failed.stderr, /^saltshard: cannot use config from Eppo: the initial config fetch failed/m);
  assert.doesNotMatch(failed.stderr, /saltshard: saltshard:/);
  assert.ok(!failed.stderr.includes(key) && !failed.stdout.includes(key), `the key is echoed:\n${failed.stderr}`);
  const local = run(['assign', '--config', CONFIG, '--input', SUBJECTS], { SALTSHARD_API_KEY: key });
  assert.equal(local.code, 0, local.stderr);
});

t('SALTSHARD_WORKERS and SALTSHARD_DIALECT are read; a bad value is reported like the option', () => {
  const r = run(['assign', '--config', CONFIG, '--input', SUBJECTS], { SALTSHARD_WORKERS: '2' });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /, 2 workers\n/);
  const bad = run(['assign', '--config', CONFIG, '--input', SUBJECTS], { SALTSHARD_WORKERS: 'many' });
  assert.equal(bad.code, 64);
  assert.match(bad.stderr, /--workers must be a whole number/);
  const sql = run(['sql', '--config', CONFIG, '--flags', 'checkout-redesign'], { SALTSHARD_DIALECT: 'duckdb' });
  assert.equal(sql.code, 0, sql.stderr);
  assert.match(sql.stdout, /SELECT/);
});

t('the README lists the exit codes of --help', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const line of EXIT_CODES_TEXT.split('\n').slice(1)) {
    const [, code, meaning] = /^ {2}(\d+) +(.*)$/.exec(line)!;
    assert.ok(readme.includes(`| ${code} | ${meaning} |`), `README lacks the exit code row "| ${code} | ${meaning} |"`);
  }
});

t.after(() => rmSync(dir, { recursive: true, force: true }));
t.run();
