# SQL engines for test/sql-engines.test.ts: ClickHouse (chdb, ~550 MB) and PostgreSQL (PGlite) from the test-only
# package test/engines (its own lockfile, never the root package), and Debian's PostgreSQL server binaries (the test
# starts a throwaway server on 127.0.0.1 on a free port and stops it). Without them those tests print SKIP.
# `npm ci` refuses this lockfile (npm 11 reports chdb's other-platform optional packages as "missing"), so install
# from it with `npm install`, which keeps the locked versions.
npm install --prefix test/engines --no-audit --no-fund
apt_install postgresql
