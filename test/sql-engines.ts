// Real SQL engines for the `saltshard sql` tests: DuckDB (@duckdb/node-api, a root devDependency), ClickHouse
// (chdb) and PostgreSQL (PGlite) from the test-only package test/engines (installed by .ci/setup.d/16-engines.sh),
// and a Debian PostgreSQL server started on 127.0.0.1 when its binaries are installed. Each loader returns null and
// prints a SKIP line when its engine is absent, so `npm ci && npm test` works without them.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { DialectName } from '../src/sql/dialects.ts';
import { ROOT, freePort } from './support.ts';

export type Row = Record<string, unknown>;

/** One engine: run statements, read rows as plain JSON values (64-bit integers as decimal strings or numbers). */
export interface Engine {
  readonly name: string;
  readonly dialect: DialectName;
  /** How a scratch table is created: `CREATE TABLE`, or `CREATE TEMP TABLE` where DDL is slow. */
  readonly create: string;
  /** `ENGINE = ...` clause and the like, appended to CREATE TABLE. */
  readonly tableSuffix: string;
  /** How many random configs the differential runs here (a server queried through psql is slower per table). */
  readonly randomConfigs: number;
  run(sql: string): Promise<void>;
  rows(sql: string): Promise<Row[]>;
  close(): Promise<void>;
}

const enginesRequire = createRequire(join(ROOT, 'test', 'engines', 'package.json'));

function resolveEngine(name: string): string | null {
  try {
    return enginesRequire.resolve(name);
  } catch {
    return null;
  }
}

export async function openDuckDB(): Promise<Engine | null> {
  try {
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:');
    const con = await instance.connect();
    return {
      name: 'DuckDB',
      dialect: 'duckdb',
      create: 'CREATE TABLE',
      tableSuffix: '',
      randomConfigs: 120,
      run: async (sql) => void (await con.run(sql)),
      rows: async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson() as Row[],
      close: async () => con.closeSync(),
    };
  } catch (err) {
    console.log(`SKIP DuckDB execution: @duckdb/node-api does not load on this runtime (${(err as Error).message.split('\n')[0]})`);
    return null;
  }
}

export async function openClickHouse(): Promise<Engine | null> {
  const path = resolveEngine('chdb');
  if (path === null) {
    console.log('SKIP ClickHouse execution: chdb is not installed (npm ci --prefix test/engines, as .ci/setup.d/16-engines.sh does)');
    return null;
  }
  try {
    const chdb = enginesRequire(path) as { Session: new () => { query(sql: string, format?: string): string; close(): void } };
    const session = new chdb.Session();
    // 64-bit integers as JSON strings, so values beyond 2^53 survive.
    const settings = ' SETTINGS output_format_json_quote_64bit_integers = 1';
    return {
      name: 'ClickHouse (chdb)',
      dialect: 'clickhouse',
      create: 'CREATE TABLE',
      tableSuffix: ' ENGINE = Memory',
      randomConfigs: 120,
      run: async (sql) => void session.query(sql, 'CSV'),
      rows: async (sql) => session.query(`${sql.trimEnd()}${settings}`, 'JSONEachRow').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Row),
      close: async () => session.close(),
    };
  } catch (err) {
    console.log(`SKIP ClickHouse execution: chdb does not load on this runtime (${(err as Error).message.split('\n')[0]})`);
    return null;
  }
}


/** 64-bit integers and JSON as text; everything else as the driver parses it. */
const PG_PARSERS = { 20: (x: string) => x, 114: (x: string) => x, 3802: (x: string) => x };

export async function openPGlite(): Promise<Engine | null> {
  const path = resolveEngine('@electric-sql/pglite');
  if (path === null) {
    console.log('SKIP PostgreSQL (PGlite) execution: @electric-sql/pglite is not installed (npm ci --prefix test/engines)');
    return null;
  }
  try {
    const { PGlite } = (await import(pathToFileURL(path).href)) as { PGlite: new (options?: unknown) => { query: (sql: string, params?: unknown[], options?: unknown) => Promise<{ rows: Row[] }>; exec: (sql: string) => Promise<unknown>; close: () => Promise<void> } };
    const db = new PGlite();
    return {
      name: 'PostgreSQL (PGlite)',
      dialect: 'postgres',
      create: 'CREATE TEMP TABLE',
      tableSuffix: '',
      randomConfigs: 120,
      run: async (sql) => void (await db.exec(sql)),
      rows: async (sql) => (await db.query(sql, [], { parsers: PG_PARSERS })).rows,
      close: () => db.close(),
    };
  } catch (err) {
    console.log(`SKIP PostgreSQL (PGlite) execution: PGlite does not load on this runtime (${(err as Error).message.split('\n')[0]})`);
    return null;
  }
}

/** Debian's PostgreSQL binaries (postgresql-NN), newest first. */
function postgresBin(): string | null {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  for (const v of readdirSync(base).sort((a, b) => Number(b) - Number(a))) {
    const bin = join(base, v, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'postgres'))) return bin;
  }
  return null;
}

/**
 * A throwaway PostgreSQL server on 127.0.0.1 (a free port, a temporary data directory, trust auth), queried with
 * `psql`; stopped and deleted by close(). Runs as root only through `runuser` to the `postgres` account.
 */
export async function openPostgresServer(): Promise<Engine | null> {
  const bin = postgresBin();
  if (bin === null) {
    console.log('SKIP PostgreSQL server execution: Debian postgresql is not installed (apt-get install postgresql, as .ci/setup.d/16-engines.sh does)');
    return null;
  }
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const asUser = (cmd: string, args: string[]): [string, string[]] => (isRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]);
  const dir = mkdtempSync(join(tmpdir(), 'saltshard-pg-'));
  if (isRoot) spawnSync('chown', ['postgres:postgres', dir]);
  const data = join(dir, 'data');
  const [ic, ia] = asUser(join(bin, 'initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const init = spawnSync(ic, ia, { encoding: 'utf8' });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    console.log(`SKIP PostgreSQL server execution: initdb failed (${(init.stderr || init.stdout).trim().split('\n').pop()})`);
    return null;
  }
  const port = await freePort();
  const [pc, pa] = asUser(join(bin, 'postgres'), ['-D', data, '-h', '127.0.0.1', '-p', String(port), '-k', dir, '-c', 'fsync=off']);
  const server = spawn(pc, pa, { stdio: 'ignore' });
  const psql = (sql: string, csv: boolean) => {
    const r = spawnSync(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-X', '-q', '-v', 'ON_ERROR_STOP=1', ...(csv ? ['-A', '-t'] : []), '-f', '-'], { input: sql, encoding: 'utf8', maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new Error(r.stderr.trim());
    return r.stdout;
  };
  for (let i = 0; ; i++) {
    try {
      psql('SELECT 1', true);
      break;
    } catch (err) {
      if (i > 100) {
        server.kill('SIGKILL');
        rmSync(dir, { recursive: true, force: true });
        console.log(`SKIP PostgreSQL server execution: the server did not start (${(err as Error).message.split('\n')[0]})`);
        return null;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  // Statements wait for the next query, so each query is one psql run.
  let pending = '';
  return {
    name: 'PostgreSQL server',
    dialect: 'postgres',
    create: 'CREATE TABLE', // a temporary table would end with the psql session
    tableSuffix: '',
    randomConfigs: 15,
    run: async (sql) => void (pending += `${sql};\n`),
    // One JSON object per row (JSON values nested, 64-bit integers as JSON numbers).
    rows: async (sql) => {
      const batch = pending;
      pending = '';
      const text = psql(`${batch}SELECT row_to_json(r)::text FROM (${sql.trimEnd().replace(/;$/, '')}) AS r`, true);
      return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Row);
    },
    close: async () => {
      server.kill('SIGTERM');
      await new Promise((r) => server.once('exit', r));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
