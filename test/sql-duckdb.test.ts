// `saltshard sql --dialect duckdb` executed in DuckDB (@duckdb/node-api) against Eppo's evaluator (test/sql-suite.ts).
import { openDuckDB } from './sql-engines.ts';
import { engineSuite } from './sql-suite.ts';

await engineSuite('sql-duckdb', [openDuckDB]);
