# Issue 17: a real redis-server for test/redis.test.ts (shared exposure dedupe); the test starts it on 127.0.0.1
# (a free port) and kills it mid-run, and skips with a SKIP line when it is absent.
apt_install redis-server
