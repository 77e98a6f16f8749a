# Headless Chromium for test/report-html.test.ts (the HTML reports of `saltshard diff` and `saltshard audit` are
# opened in a real browser over the DevTools protocol); the test prints SKIP when it is absent.
apt_install chromium
