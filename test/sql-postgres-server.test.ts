// `saltshard sql --dialect postgres` executed on a throwaway Debian PostgreSQL server on 127.0.0.1 (free port, temporary
// data directory, stopped at the end) against Eppo's evaluator (test/sql-suite.ts). Prints SKIP without postgresql.
import { openPostgresServer } from './sql-engines.ts';
import { engineSuite } from './sql-suite.ts';

await engineSuite('sql-postgres-server', [openPostgresServer]);
