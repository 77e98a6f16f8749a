# Cloudflare's workerd runtime for test/workerd.test.ts (test-only, kept out of the package's dependencies).
npm ci --prefix test/workerd --no-audit --no-fund
