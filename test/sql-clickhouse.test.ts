// `saltshard sql --dialect clickhouse` executed in ClickHouse (chdb, from test/engines) against Eppo's evaluator
// (test/sql-suite.ts). Prints SKIP when chdb is not installed.
import { openClickHouse } from './sql-engines.ts';
import { engineSuite } from './sql-suite.ts';

await engineSuite('sql-clickhouse', [openClickHouse]);
