// `saltshard sql --dialect postgres` executed in PGlite (PostgreSQL compiled to WASM, from test/engines) against Eppo's
// evaluator (test/sql-suite.ts). Prints SKIP when PGlite is not installed. The server run: sql-postgres-server.test.ts.
import { openPGlite } from './sql-engines.ts';
import { engineSuite } from './sql-suite.ts';

await engineSuite('sql-postgres', [openPGlite]);
