// Evaluation hooks (OpenFeature's shape) on the client: stages and their order, attributes added by `before`,
// error classification, strict mode, and the sandbox (a hook that throws or rejects changes nothing).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as saltshard from '../src/mod.ts';
import type { EvaluationHook } from '../src/mod.ts';
import { configText } from './fake-eppo.ts';

function setup() {
  const errors: string[] = [];
  const logger = { error: (...a: unknown[]) => void errors.push(a.join(' ')), warn: () => {} };
  const client = saltshard.offlineInit({ flagsConfiguration: configText(1), logger });
  return { client, errors };
}

test('stages run before in order, then after/error and finally in reverse, with the context and details', () => {
  const { client } = setup();
  const calls: string[] = [];
  const seen: unknown[] = [];
  const hook = (name: string): EvaluationHook => ({
    before: (ctx) => void calls.push(`${name}.before ${ctx.flagKey} ${ctx.flagValueType} ${ctx.subjectKey}`),
    after: (ctx, d) => void (calls.push(`${name}.after ${d.value} ${d.variant}`), seen.push(ctx)),
    error: (_ctx, err) => void calls.push(`${name}.error ${err.code}`),
    finally: (_ctx, d) => void calls.push(`${name}.finally ${d?.evaluationDetails.flagEvaluationCode}`),
  });
  client.addHooks(hook('a'), hook('b'));
  assert.is(client.getHooks().length, 2);
  const value = client.getIntegerAssignment('config-version', 'alice', { plan: 'pro' }, 0);
  assert.is(value, 1);
  assert.equal(calls, [
    'a.before config-version INTEGER alice', 'b.before config-version INTEGER alice',
    'b.after 1 v', 'a.after 1 v',
    'b.finally MATCH', 'a.finally MATCH',
  ]);
  assert.equal(seen[0], { flagKey: 'config-version', flagValueType: 'INTEGER', defaultValue: 0, subjectKey: 'alice', subjectAttributes: { plan: 'pro' } });
  assert.ok(Object.isFrozen(seen[0]));
  calls.length = 0;
  client.getStringAssignment('config-version', 'alice', {}, 'x');
  assert.equal(calls.filter((c) => !c.includes('before')), ['b.error TYPE_MISMATCH', 'a.error TYPE_MISMATCH', 'b.finally TYPE_MISMATCH', 'a.finally TYPE_MISMATCH']);
  calls.length = 0;
  client.getBooleanAssignment('no-such-flag', 'alice', {}, false);
  assert.ok(calls.includes('a.error FLAG_UNRECOGNIZED_OR_DISABLED'), 'a flag the config lacks is an error');
  calls.length = 0;
  client.getBooleanAssignment('legacy-banner', 'alice', {}, false);
  assert.ok(calls.includes('a.after false null'), 'a disabled flag is not an error');
  calls.length = 0;
  client.getStringAssignment('checkout-redesign', '', {}, 'x');
  assert.ok(calls.includes('a.error ASSIGNMENT_ERROR'));
  client.clearHooks();
  calls.length = 0;
  client.getIntegerAssignment('config-version', 'alice', {}, 0);
  assert.equal(calls, []);
  assert.equal(client.getHooks(), []);
});

test('before may add attributes for the evaluation; they reach targeting and later stages', () => {
  const { client } = setup();
  const ctxs: unknown[] = [];
  client.addHooks({ before: () => ({ email: 'qa@example.com' }), finally: (ctx) => void ctxs.push(ctx.subjectAttributes) });
  // checkout-redesign's first allocation serves "treatment" to emails ending in @example.com.
  const d = client.getStringAssignmentDetails('checkout-redesign', 'zed', { country: 'DE' }, 'none');
  assert.is(d.variation, 'treatment');
  assert.is(d.evaluationDetails.matchedAllocation?.key, 'internal-users');
  assert.equal(ctxs, [{ country: 'DE', email: 'qa@example.com' }]);
});

test('a hook that throws, rejects or returns garbage changes nothing; failures go to the logger', async () => {
  const { client, errors } = setup();
  const expected = client.getStringAssignmentDetails('checkout-redesign', 'alice', { country: 'FR' }, 'none');
  let unhandled = 0;
  const onUnhandled = () => void unhandled++;
  process.on('unhandledRejection', onUnhandled);
  try {
    client.addHooks(
      { before: () => { throw new Error('before broke'); }, after: () => { throw new Error('after broke'); } },
      { before: () => Promise.resolve({ country: 'US' }) as never, after: () => Promise.reject(new Error('async broke')), finally: () => { throw 'a string'; } },
      { before: () => 42 as never, error: () => { throw new Error('never called here'); } },
    );
    const got = client.getStringAssignmentDetails('checkout-redesign', 'alice', { country: 'FR' }, 'none');
    assert.is(got.variation, expected.variation);
    assert.is(got.evaluationDetails.flagEvaluationDescription, expected.evaluationDetails.flagEvaluationDescription);
    await new Promise((r) => setTimeout(r, 20));
    assert.is(unhandled, 0);
    for (const m of ['Evaluation hook before threw', 'Evaluation hook after threw', 'Evaluation hook after rejected', 'Evaluation hook finally threw']) {
      assert.ok(errors.some((e) => e.includes(m)), `${m} in ${JSON.stringify(errors)}`);
    }
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
  assert.throws(() => client.addHooks({} as never), /addHooks\(\) takes hooks/);
  const hostile = Object.defineProperty({}, 'after', { get() { throw new Error('getter'); } });
  assert.throws(() => client.addHooks(hostile as never), /addHooks\(\) takes hooks/);
  // Methods are read when added: replacing one later changes nothing, so a getter can never meet a hostile property.
  client.clearHooks();
  let calls = 0;
  const hook: EvaluationHook = { after: () => void calls++ };
  client.addHooks(hook);
  hook.after = () => { throw new Error('replaced'); };
  client.getStringAssignment('checkout-redesign', 'alice', {}, 'none');
  assert.is(calls, 1);
});

test('strict mode: error and finally (without details) run, then the getter throws', () => {
  const { client } = setup();
  const calls: string[] = [];
  client.addHooks({ error: (_c, e) => void calls.push(`error ${e.message}`), finally: (_c, d) => void calls.push(`finally ${d}`) });
  client.setIsGracefulFailureMode(false);
  assert.throws(() => client.getStringAssignment('checkout-redesign', '', {}, 'x'), /subjectKey cannot be blank/);
  assert.equal(calls, ['error Invalid argument: subjectKey cannot be blank', 'finally undefined']);
});

test('hooks see bandit variations, overrides and withOverrides copies', () => {
  const { client } = setup();
  const flags: string[] = [];
  client.addHooks({ after: (ctx, d) => void flags.push(`${ctx.flagKey}=${d.value}`) });
  client.getBanditAction('checkout-redesign', 'alice', { country: 'FR' }, ['a'], 'none');
  const scoped = client.withOverrides({ 'new-search': { key: 'forced', value: true } });
  scoped.getBooleanAssignment('new-search', 'alice', {}, false);
  assert.is(flags.length, 2);
  assert.ok(flags[0].startsWith('checkout-redesign='));
  assert.is(flags[1], 'new-search=true');
});

test.run();
