// EppoAssignmentLogger: exposures through client.track('__eppo_assignment', …), with the payloads Eppo's own
// class (from @eppo/js-client-sdk-common, which @eppo/node-server-sdk re-exports) makes of the same events.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { EppoAssignmentLogger as EppoClass } from '@eppo/js-client-sdk-common';
import { type AssignmentEvent, EppoAssignmentLogger, offlineInit } from '../src/mod.ts';

const t = suite('eppo-assignment-logger');

const split = (variationKey: string, start: number, end: number, extraLogging?: Record<string, string>) => ({
  variationKey, shards: [{ salt: 'exp', ranges: [{ start, end }] }], ...(extraLogging ? { extraLogging } : {}),
});
const CONFIG = {
  createdAt: '2026-01-01T00:00:00.000Z', format: 'SERVER', environment: { name: 'Test' },
  flags: {
    tracked: {
      key: 'tracked', enabled: true, variationType: 'STRING', totalShards: 100, entityId: 42,
      variations: { a: { key: 'a', value: 'a' }, b: { key: 'b', value: 'b' } },
      allocations: [{ key: 'exp', doLog: true, splits: [split('a', 0, 50, { holdoutKey: 'h-1', holdoutVariation: 'status_quo' }), split('b', 50, 100)] }],
    },
    untracked: {
      key: 'untracked', enabled: true, variationType: 'STRING', totalShards: 100,
      variations: { a: { key: 'a', value: 'a' } },
      allocations: [{ key: 'all', doLog: true, splits: [{ variationKey: 'a', shards: [] }] }],
    },
  },
};

t('exposures of flags with an entityId become __eppo_assignment events with Eppo\'s payload; others send nothing', () => {
  const dispatched: { type: string; payload: Record<string, unknown> }[] = [];
  const events: AssignmentEvent[] = [];
  const client = offlineInit({ flagsConfiguration: CONFIG, assignmentCacheSize: 0 });
  client.setEventDispatcher({ dispatch: (e: { type: string; payload: Record<string, unknown> }) => void dispatched.push(e), attachContext() {} });
  const ours = new EppoAssignmentLogger(client);
  client.setAssignmentLogger({ logAssignment: (e) => (events.push(e), ours.logAssignment(e)) });
  for (let i = 0; i < 40; i++) {
    client.getStringAssignment('tracked', `user-${i}`, {}, 'none');
    client.getStringAssignment('untracked', `user-${i}`, {}, 'none');
  }
  assert.equal(events.length, 80);
  const eppoTracked: { type: string; payload: Record<string, unknown> }[] = [];
  const eppo = new EppoClass({ track: (type: string, payload: Record<string, unknown>) => void eppoTracked.push({ type, payload }) } as never);
  for (const e of events) eppo.logAssignment(e as never);
  assert.equal(eppoTracked.length, 40, 'Eppo\'s class sends the 40 exposures of the flag with an entityId');
  assert.deepEqual(dispatched.map((d) => ({ type: d.type, payload: d.payload })), eppoTracked);
  assert.ok(eppoTracked.some((d) => d.payload.holdout === 'h-1') && eppoTracked.some((d) => d.payload.holdout === undefined), 'both splits seen');
  client.close();
});

t.run();
