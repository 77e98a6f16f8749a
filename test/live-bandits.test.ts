// The live client fetches Eppo's bandit parameters when the config references models it does not have.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createClient } from '../src/mod.ts';
import { TEST_DATA, hasTestData, listJson, readJson, readText } from './support.ts';

const t = suite('live-bandits');
const quiet = { error() {}, warn() {} };

interface BanditCase {
  flag: string;
  defaultValue: string;
  subjects: { subjectKey: string; subjectAttributes: Record<string, unknown>; actions: { actionKey: string; numericAttributes: Record<string, number>; categoricalAttributes: Record<string, string> }[]; assignment: { variation: string; action: string | null } }[];
}

t('models are fetched once from /flag-config/v1/bandits and every bandit test subject gets its action', async () => {
  if (!hasTestData('live bandits')) return;
  const paths: string[] = [];
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    paths.push(path);
    const file = path.endsWith('/config') ? 'bandit-flags-v1.json' : path.endsWith('/bandits') ? 'bandit-models-v1.json' : null;
    if (file === null) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json', etag: `"${file}"` }).end(readText(TEST_DATA, 'ufc', file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = createClient({ apiKey: 'k', baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`, pollingIntervalMs: 50, logger: quiet });
  try {
    assert.equal(await client.waitForInitialization(), true);
    let checked = 0;
    for (const file of listJson(`${TEST_DATA}/ufc/bandit-tests`)) {
      const c = readJson<BanditCase>(TEST_DATA, 'ufc', 'bandit-tests', file);
      for (const s of c.subjects) {
        const actions = Object.fromEntries(s.actions.map((a) => [a.actionKey, { numericAttributes: a.numericAttributes, categoricalAttributes: a.categoricalAttributes }]));
        assert.deepEqual(client.getBanditAction(c.flag, s.subjectKey, s.subjectAttributes as never, actions, c.defaultValue), s.assignment, `${file} ${s.subjectKey}`);
        checked++;
      }
    }
    assert.equal(checked, 35);
    // Polls every 50 ms; on a loaded machine the timers slip, so wait (up to 10 s) for three config requests.
    for (const deadline = Date.now() + 10_000; paths.filter((p) => p.endsWith('/config')).length < 3 && Date.now() < deadline;) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(paths.filter((p) => p.endsWith('/bandits')).length, 1, 'models are not refetched while their versions are loaded');
    assert.ok(paths.filter((p) => p.endsWith('/config')).length >= 3, 'the config keeps polling');
  } finally {
    client.close();
    server.close();
  }
});

t.run();
