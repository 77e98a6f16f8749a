// `saltshard sql --dialect postgres` executed in PostgreSQL — PGlite (from test/engines) and a throwaway Debian
// PostgreSQL server on 127.0.0.1 — against Eppo's evaluator (test/sql-suite.ts). Prints SKIP for what is not installed.
import { openPGlite, openPostgresServer } from './sql-engines.ts';
import { engineSuite } from './sql-suite.ts';

await engineSuite('sql-postgres', [openPGlite, openPostgresServer]);
