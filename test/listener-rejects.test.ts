// An async on(...) listener that rejects must not crash the process (issue 12, item 2: it crashed Node and Deno,
// though the README says listeners are sandboxed). The listeners run in a child process with the runtime's default
// handling of unhandled rejections, so a rejection that escaped the sandbox would end it with a non-zero status.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { startScript } from './spawn.ts';

const t = suite('listener-rejects');

t('rejecting async listeners on every event: the process keeps running, polls on and exits 0', async () => {
  const run = startScript('listener-child');
  const code = await run.exited;
  assert.equal(code, 0, `exit ${code}\n${run.err().slice(0, 2000)}`);
  const seen = JSON.parse(run.out().trim().split('\n').at(-1)!) as { calls: Record<string, number>; value: number };
  assert.equal(seen.value, 2, 'the client kept polling and took config 2');
  for (const event of ['configurationChanged', 'syncFailed', 'syncRecovered']) assert.ok((seen.calls[event] ?? 0) > 0, `${event} listener ran`);
});

t.run();
