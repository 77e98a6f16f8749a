// Junk at every public entry point (reliability-plan §0 items 6–7, §5.3; eppo-spec §1.8, §2.1, §2.8): getters never
// throw and return the default with a sensible code; inherited property names are plain names; malformed configs
// fail with a ConfigError naming the JSON path, or break only the flag concerned; a seeded fuzz loop over
// sdk-test-data's flags-v1.json.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { ConfigError, compileConfig, offlineInit } from '../src/mod.ts';
import type { AssignmentEvent, SaltshardClient } from '../src/mod.ts';
import { join } from 'node:path';
import * as v from 'valibot';
import { FlagSchema, isFlagWire } from '../src/config/wire.ts';
import { TEST_DATA, hasTestData, listJson, readJson, readText } from './support.ts';
import { mulberry32 } from './gen-config.ts';

const t = suite('robustness');

type Getter = 'String' | 'Boolean' | 'Integer' | 'Numeric' | 'JSON';
const GETTERS: Getter[] = ['String', 'Boolean', 'Integer', 'Numeric', 'JSON'];
const TYPE_OF: Record<Getter, string> = { String: 'STRING', Boolean: 'BOOLEAN', Integer: 'INTEGER', Numeric: 'NUMERIC', JSON: 'JSON' };

interface Details {
  variation: unknown;
  action: null;
  evaluationDetails: { flagEvaluationCode: string; flagEvaluationDescription: string; environmentName: string; variationKey: string | null; unmatchedAllocations: { allocationEvaluationCode: string }[] };
}

/** Call a getter with arbitrary (typed-away) arguments. */
function get(client: SaltshardClient, g: Getter, details: boolean, ...args: unknown[]): unknown {
  const fn = (client as unknown as Record<string, (...a: unknown[]) => unknown>)[`get${g}Assignment${details ? 'Details' : ''}`];
  return fn.apply(client, args);
}
const details = (client: SaltshardClient, g: Getter, ...args: unknown[]) => get(client, g, true, ...args) as Details;

type Json = Record<string, unknown>;
const split = (variationKey: string, shards: unknown[] = []) => ({ variationKey, shards });
const HASHED_SPLIT = (variationKey: string) => split(variationKey, [{ salt: 'salt', ranges: [{ start: 0, end: 10000 }] }]);

function flag(variationType: string, variations: Record<string, unknown>, allocations: Json[], extra: Json = {}): Json {
  const vs: Json = {};
  for (const [k, value] of Object.entries(variations)) vs[k] = { key: k, value };
  return { key: 'k', enabled: true, variationType, totalShards: 10000, variations: vs, allocations, ...extra };
}
const alloc = (key: string, splits: Json[], extra: Json = {}): Json => ({ key, splits, doLog: true, ...extra });
const cond = (attribute: string, operator: string, value: unknown) => ({ rules: [{ conditions: [{ attribute, operator, value }] }] });

/** A document; each flag built by `flag()` gets its map key as its `key` (Eppo logs a plain flag under `key`). */
function doc(flags: Record<string, unknown>): Json {
  for (const [name, f] of Object.entries(flags)) if (f !== null && typeof f === 'object' && (f as Json).key === 'k') (f as Json).key = name;
  return { createdAt: '2024-04-17T19:40:53.716Z', format: 'SERVER', environment: { name: 'Test' }, flags };
}

const BASE = doc({
  str: flag('STRING', { a: 'A' }, [alloc('all', [HASHED_SPLIT('a')])]),
  bool: flag('BOOLEAN', { t: true }, [alloc('all', [split('t')])]),
  int: flag('INTEGER', { one: 1 }, [alloc('all', [split('one')])]),
  num: flag('NUMERIC', { pi: 3.14 }, [alloc('all', [split('pi')])]),
  json: flag('JSON', { obj: '{"a":1}' }, [alloc('all', [split('obj')])]),
  oneOf: flag('STRING', { hit: 'hit' }, [alloc('r', [split('hit')], cond('x', 'ONE_OF', ['1', 'Symbol(s)']))]),
  matches: flag('STRING', { hit: 'hit' }, [alloc('r', [split('hit')], cond('x', 'MATCHES', 'S'))]),
  gt: flag('STRING', { hit: 'hit' }, [alloc('r', [split('hit')], cond('x', 'GT', 0))]),
  semver: flag('STRING', { hit: 'hit' }, [alloc('r', [split('hit')], cond('x', 'GT', '1.0.0'))]),
});

const LONE = 'a\ud800b';
const LONG = 'x'.repeat(1_000_000);
const throwingToString = { toString() { throw new Error('toString'); } };
const throwingValueOf = { valueOf() { throw new Error('valueOf'); }, toString: () => 'S' };
const throwingBoth = { [Symbol.toPrimitive]() { throw Symbol('thrown symbol'); } };
const JUNK: [string, unknown][] = [
  ['undefined', undefined], ['null', null], ['0', 0], ['NaN', Number.NaN], ['42', 42], ['true', true], ['{}', {}], ['[]', []],
  ['[1]', [1]], ['symbol', Symbol('s')], ['""', ''], ['lone surrogate', LONE], ['long string', LONG], ['bigint', 10n],
  ['function', () => 1], ['throwing toString', throwingToString], ['throwing valueOf', throwingValueOf],
  ['throwing toPrimitive', throwingBoth], ['Object.create(null)', Object.create(null)], ['Date', new Date(0)],
];

t('getters never throw on junk flagKey, subjectKey, attributes or default, and return the default', () => {
  const client = offlineInit({ flagsConfiguration: BASE });
  const FLAGS = ['str', 'bool', 'int', 'num', 'json', 'oneOf', 'matches', 'gt', 'semver'];
  for (const g of GETTERS) {
    for (const [name, junk] of JUNK) {
      const dflt = Symbol('default');
      for (const f of FLAGS) {
        for (const args of [[junk, 'alice', {}, dflt], ['' + f, junk, {}, dflt], [f, 'alice', junk, dflt], [f, 'alice', { x: junk }, dflt]]) {
          let d: Details;
          let v: unknown;
          try {
            d = details(client, g, ...args);
            v = get(client, g, false, ...args);
          } catch (err) {
            assert.fail(`get${g}Assignment(${name} in ${JSON.stringify(args.map(String).map((s) => s.slice(0, 20)))}) threw ${String(err)}`);
          }
          assert.equal(d.action, null);
          assert.equal(typeof d.evaluationDetails.flagEvaluationDescription, 'string');
          if (d.evaluationDetails.flagEvaluationCode !== 'MATCH') {
            assert.equal(d.variation, dflt, `${g} ${f} ${name}: ${d.evaluationDetails.flagEvaluationDescription}`);
            assert.equal(v, dflt);
          }
        }
      }
      // The default itself may be anything and is handed back untouched.
      const r = details(client, g, 'missing', 'alice', {}, junk);
      assert.ok(Object.is(r.variation, junk), `default ${name}`);
      assert.equal(r.evaluationDetails.flagEvaluationCode, 'FLAG_UNRECOGNIZED_OR_DISABLED');
    }
  }
});

t('blank or invalid arguments give ASSIGNMENT_ERROR with Eppo\'s description and an empty environment', () => {
  const client = offlineInit({ flagsConfiguration: BASE });
  const cases: [string, unknown[], string][] = [
    ['subjectKey undefined', ['str', undefined, {}, 'd'], 'Assignment Error: Invalid argument: subjectKey cannot be blank'],
    ['subjectKey null', ['str', null, {}, 'd'], 'Assignment Error: Invalid argument: subjectKey cannot be blank'],
    ['subjectKey ""', ['str', '', {}, 'd'], 'Assignment Error: Invalid argument: subjectKey cannot be blank'],
    ['flagKey undefined', [undefined, 'alice', {}, 'd'], 'Assignment Error: Invalid argument: flagKey cannot be blank'],
    ['flagKey null', [null, 'alice', {}, 'd'], 'Assignment Error: Invalid argument: flagKey cannot be blank'],
    ['flagKey ""', ['', 'alice', {}, 'd'], 'Assignment Error: Invalid argument: flagKey cannot be blank'],
    ['both blank: subject first', ['', '', {}, 'd'], 'Assignment Error: Invalid argument: subjectKey cannot be blank'],
  ];
  for (const [name, args, description] of cases) {
    const d = details(client, 'String', ...args);
    assert.equal(d.variation, 'd', name);
    assert.equal(d.evaluationDetails.flagEvaluationCode, 'ASSIGNMENT_ERROR', name);
    assert.equal(d.evaluationDetails.flagEvaluationDescription, description, name);
    assert.equal(d.evaluationDetails.environmentName, '', name);
  }
  for (const [name, args] of [
    ['subjectKey 42', ['str', 42, {}, 'd']], ['subjectKey symbol', ['str', Symbol('s'), {}, 'd']], ['subjectKey {}', ['str', {}, {}, 'd']],
    ['flagKey 42', [42, 'alice', {}, 'd']], ['flagKey []', [[], 'alice', {}, 'd']],
    ['attributes 42', ['str', 'alice', 42, 'd']], ['attributes "x"', ['str', 'alice', 'x', 'd']], ['attributes symbol', ['str', 'alice', Symbol('a'), 'd']],
  ] as [string, unknown[]][]) {
    const d = details(client, 'String', ...args);
    assert.equal(d.variation, 'd', name);
    assert.equal(d.evaluationDetails.flagEvaluationCode, 'ASSIGNMENT_ERROR', name);
    assert.match(d.evaluationDetails.flagEvaluationDescription, /^Assignment Error: Invalid argument: /, name);
  }
});

t('junk-but-valid strings: lone surrogates fail hashing (ASSIGNMENT_ERROR), long keys work, unknown keys are unrecognized', () => {
  const client = offlineInit({ flagsConfiguration: BASE });
  const lone = details(client, 'String', 'str', LONE, {}, 'd');
  assert.equal(lone.evaluationDetails.flagEvaluationCode, 'ASSIGNMENT_ERROR');
  assert.equal(lone.variation, 'd');
  assert.equal(details(client, 'String', 'str', LONG, {}, 'd').variation, 'A');
  assert.equal(details(client, 'String', 'str', '\ud83e\udd17', {}, 'd').variation, 'A');
  for (const key of [LONE, LONG, ' str', 'STR']) {
    const d = details(client, 'String', key, 'alice', {}, 'd');
    assert.equal(d.evaluationDetails.flagEvaluationCode, 'FLAG_UNRECOGNIZED_OR_DISABLED');
    assert.equal(d.evaluationDetails.flagEvaluationDescription, `Unrecognized or disabled flag: ${key}`);
  }
});

t('attribute values that cannot be coerced give ASSIGNMENT_ERROR, as Eppo\'s toString()/Number() would throw', () => {
  const client = offlineInit({ flagsConfiguration: BASE });
  const code = (f: string, x: unknown) => details(client, 'String', f, 'alice', { x }, 'd').evaluationDetails.flagEvaluationCode;
  for (const f of ['oneOf', 'matches', 'gt']) {
    assert.equal(code(f, throwingToString), 'ASSIGNMENT_ERROR', `${f} throwing toString`);
    assert.equal(code(f, Object.create(null)), 'ASSIGNMENT_ERROR', `${f} Object.create(null)`);
    assert.equal(code(f, throwingBoth), 'ASSIGNMENT_ERROR', `${f} throwing toPrimitive`);
  }
  assert.equal(code('gt', throwingValueOf), 'ASSIGNMENT_ERROR');
  assert.equal(code('gt', Symbol('s')), 'ASSIGNMENT_ERROR'); // Number(symbol) throws
  assert.equal(code('gt', 10n), 'MATCH'); // Number(10n) is 10
  assert.equal(code('oneOf', Symbol('s')), 'MATCH'); // Symbol.prototype.toString gives "Symbol(s)"
  assert.equal(code('semver', Symbol('s')), 'DEFAULT_ALLOCATION_NULL');
  assert.equal(code('semver', throwingToString), 'DEFAULT_ALLOCATION_NULL');
});

t('a symbol attribute under MATCHES is ASSIGNMENT_ERROR: RegExp.prototype.test runs ToString(value), which throws', () => {
  const client = offlineInit({ flagsConfiguration: BASE });
  for (const f of ['matches']) {
    const d = details(client, 'String', f, 'alice', { x: Symbol('s') }, 'd');
    assert.equal(d.variation, 'd');
    assert.equal(d.evaluationDetails.flagEvaluationCode, 'ASSIGNMENT_ERROR', d.evaluationDetails.flagEvaluationDescription);
  }
});

const INHERITED = ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf', 'prototype', 'isPrototypeOf'];

t('inherited property names as flag keys are unrecognized flags, not TYPE_MISMATCH', () => {
  const client = offlineInit({ flagsConfiguration: BASE });
  for (const key of INHERITED) {
    for (const g of GETTERS) {
      const d = details(client, g, key, 'alice', {}, 'd');
      assert.equal(d.evaluationDetails.flagEvaluationCode, 'FLAG_UNRECOGNIZED_OR_DISABLED', `${g} ${key}`);
      assert.equal(d.evaluationDetails.flagEvaluationDescription, `Unrecognized or disabled flag: ${key}`);
      assert.equal(d.variation, 'd');
    }
  }
});

t('inherited property names are ordinary keys for flags, variations and extraLogging in a config', () => {
  // JSON.parse keeps "__proto__" as an own key, as the wire format does.
  const names = ['constructor', '__proto__', 'toString', 'prototype', 'hasOwnProperty'];
  const text = `{"flags":{${names.map((n) => `"${n}":{"key":"${n}","enabled":true,"variationType":"STRING","totalShards":10,`
    + `"variations":{"${n}":{"key":"${n}","value":"v-${n}"}},"allocations":[{"key":"a","doLog":true,`
    + `"splits":[{"variationKey":"${n}","shards":[],"extraLogging":{"${n}":"x"}}]}]}`).join(',')}}}`;
  const events: AssignmentEvent[] = [];
  const client = offlineInit({ flagsConfiguration: text, assignmentLogger: { logAssignment: (e) => void events.push(e) } });
  for (const n of names) {
    const d = details(client, 'String', n, 'alice', {}, 'd');
    assert.equal(d.evaluationDetails.flagEvaluationCode, 'MATCH', `${n}: ${d.evaluationDetails.flagEvaluationDescription}`);
    assert.equal(d.variation, `v-${n}`);
  }
  assert.deepEqual(client.getFlagKeys().sort(), [...names].sort());
  assert.equal(events.length, names.length);
});

t('inherited property names as attribute names are missing (IS_NULL true) unless passed as own keys', () => {
  const flags: Record<string, unknown> = Object.create(null);
  for (const n of INHERITED) flags[n] = flag('STRING', { isNull: 'null' }, [alloc('r', [split('isNull')], cond(n, 'IS_NULL', true))]);
  const client = offlineInit({ flagsConfiguration: doc(flags) });
  for (const n of INHERITED) {
    assert.equal(details(client, 'String', n, 'alice', {}, 'd').variation, 'null', `${n} with {}`);
    assert.equal(details(client, 'String', n, 'alice', undefined, 'd').variation, 'null', `${n} with undefined`);
    assert.equal(details(client, 'String', n, 'alice', Object.create(null), 'd').variation, 'null', `${n} with Object.create(null)`);
    assert.equal(details(client, 'String', n, 'alice', Object.create({ [n]: 'inherited' }), 'd').variation, 'null', `${n} inherited`);
    const own = JSON.parse(`{"${n}": "present"}`);
    assert.ok(Object.hasOwn(own, n));
    assert.equal(details(client, 'String', n, 'alice', own, 'd').variation, 'd', `${n} own key`);
  }
  assert.equal(details(client, 'String', '__proto__', 'alice', { __proto__: { a: 1 } }, 'd').variation, 'null');
});

t('a matched rule is reported as received, extra fields included, from text and from an object alike', () => {
  const rule = { id: 'rule-7', note: { by: 'ops' }, conditions: [{ attribute: 'country', operator: 'ONE_OF', value: ['US'], id: 'c-1' }] };
  const config = doc({ f: flag('STRING', { a: 'A' }, [alloc('x', [split('a')], { rules: [rule] })]) });
  for (const input of [JSON.stringify(config), structuredClone(config)]) {
    const client = offlineInit({ flagsConfiguration: input, assignmentLogger: null });
    const d = details(client, 'String', 'f', 'alice', { country: 'US' }, 'd') as unknown as { evaluationDetails: { matchedRule: unknown } };
    assert.deepEqual(d.evaluationDetails.matchedRule, rule, typeof input);
  }
});

t('malformed documents: SyntaxError for text that is not JSON, ConfigError with the JSON path otherwise', () => {
  for (const text of ['not json', '{"flags": {bad', '', '{"flags":{}}x']) {
    assert.throws(() => compileConfig(text), SyntaxError, text);
    assert.throws(() => offlineInit({ flagsConfiguration: text }), SyntaxError, text);
  }
  const cases: [string, unknown, string][] = [
    ['[]', '[]', '$'],
    ['null', 'null', '$'],
    ['42', '42', '$'],
    ['"str"', '"str"', '$'],
    ['object []', [], '$'],
    ['number', 42, '$'],
    ['{} (no flags)', '{}', '$.flags'],
    ['flags []', '{"flags": []}', '$.flags'],
    ['flags null', '{"flags": null}', '$.flags'],
    ['flags "x"', '{"flags": "x"}', '$.flags'],
    ['environment string', '{"flags": {}, "environment": "Test"}', '$.environment'],
    ['environment name number', '{"flags": {}, "environment": {"name": 5}}', '$.environment.name'],
    ['environment []', '{"flags": {}, "environment": []}', '$.environment.name'],
    ['createdAt number', '{"flags": {}, "createdAt": 5}', '$.createdAt'],
    ['format object', '{"flags": {}, "format": {}}', '$.format'],
  ];
  for (const [name, input, path] of cases) {
    let caught: unknown;
    try {
      compileConfig(input);
    } catch (err) {
      caught = err;
    }
    assert.ok(caught instanceof ConfigError, `${name}: ${String(caught)}`);
    assert.equal(caught.path, path, name);
    assert.ok(caught.message.includes(path), `${name}: ${caught.message}`);
    assert.throws(() => offlineInit({ flagsConfiguration: input }), ConfigError, name);
  }
});

t('one broken flag among good ones: ASSIGNMENT_ERROR naming its path; the others evaluate', () => {
  const good = BASE.flags as Json;
  const broken: [string, unknown, string][] = [
    ['totalShards', { ...(good.str as Json), totalShards: 'x' }, '$.flags.bad.totalShards'],
    ['variationType', { ...(good.str as Json), variationType: 'TEXT' }, '$.flags.bad.variationType'],
    ['allocations', { ...(good.str as Json), allocations: {} }, '$.flags.bad.allocations'],
    ['variations []', { ...(good.str as Json), variations: [] }, '$.flags.bad.variations'],
    ['variation key', { ...(good.str as Json), variations: { a: { key: 1, value: 'A' } } }, '$.flags.bad.variations.a.key'],
    ['split', { ...(good.str as Json), allocations: [{ key: 'a', splits: [{ shards: [] }] }] }, '$.flags.bad.allocations[0].splits[0].variationKey'],
    ['range', { ...(good.str as Json), allocations: [alloc('a', [split('a', [{ salt: 's', ranges: [{ start: 0, end: 1.5 }] }])])] }, '$.flags.bad.allocations[0].splits[0].shards[0].ranges[0].end'],
    ['not an object', 'garbage', '$.flags.bad'],
    ['null', null, '$.flags.bad'],
  ];
  for (const [name, bad, path] of broken) {
    const client = offlineInit({ flagsConfiguration: JSON.stringify(doc({ ...good, bad })) });
    const d = details(client, 'String', 'bad', 'alice', {}, 'd');
    assert.equal(d.evaluationDetails.flagEvaluationCode, 'ASSIGNMENT_ERROR', name);
    assert.equal(d.variation, 'd');
    assert.ok(d.evaluationDetails.flagEvaluationDescription.includes(path), `${name}: ${d.evaluationDetails.flagEvaluationDescription}`);
    assert.equal(details(client, 'String', 'str', 'alice', {}, 'd').variation, 'A', name);
    assert.equal(details(client, 'Integer', 'int', 'alice', {}, 0).variation, 1, name);
  }
});

t('unknown operator is a false condition; a missing variation is ASSIGNMENT_ERROR', () => {
  const client = offlineInit({
    flagsConfiguration: doc({
      unknownOp: flag('STRING', { a: 'A' }, [alloc('r', [split('a')], cond('x', 'SOUNDS_LIKE', 'y')), alloc('all', [split('a')])]),
      missing: flag('STRING', { a: 'A' }, [alloc('all', [split('nope')])]),
    }),
  });
  const u = details(client, 'String', 'unknownOp', 'alice', { x: 'y' }, 'd');
  assert.equal(u.evaluationDetails.flagEvaluationCode, 'MATCH');
  assert.equal(u.evaluationDetails.unmatchedAllocations[0].allocationEvaluationCode, 'FAILING_RULE');
  const m = details(client, 'String', 'missing', 'alice', {}, 'd');
  assert.equal(m.evaluationDetails.flagEvaluationCode, 'ASSIGNMENT_ERROR');
  assert.equal(m.evaluationDetails.flagEvaluationDescription, "Assignment Error: Cannot read properties of undefined (reading 'value')");
  assert.equal(m.variation, 'd');
});

t('JSON variations: invalid text is ASSIGNMENT_ERROR with the default, "null" is a MATCH that returns the default', () => {
  const client = offlineInit({
    flagsConfiguration: doc({
      bad: flag('JSON', { v: '{bad' }, [alloc('all', [split('v')])]),
      nul: flag('JSON', { v: 'null' }, [alloc('all', [split('v')])]),
      arr: flag('JSON', { v: '[1,2]' }, [alloc('all', [split('v')])]),
      zero: flag('JSON', { v: '0' }, [alloc('all', [split('v')])]),
    }),
  });
  const bad = details(client, 'JSON', 'bad', 'alice', {}, { d: 1 });
  assert.equal(bad.evaluationDetails.flagEvaluationCode, 'ASSIGNMENT_ERROR');
  assert.match(bad.evaluationDetails.flagEvaluationDescription, /^Assignment Error: /);
  assert.deepEqual(bad.variation, { d: 1 });
  const nul = details(client, 'JSON', 'nul', 'alice', {}, { d: 1 });
  assert.equal(nul.evaluationDetails.flagEvaluationCode, 'MATCH');
  assert.deepEqual(nul.variation, { d: 1 });
  assert.deepEqual(get(client, 'JSON', false, 'arr', 'alice', {}, null), [1, 2]);
  assert.equal(get(client, 'JSON', false, 'zero', 'alice', {}, null), 0);
});

t('values of the wrong JSON type: ASSIGNMENT_ERROR with Eppo\'s description, default returned, event still logged', () => {
  const events: AssignmentEvent[] = [];
  const client = offlineInit({
    flagsConfiguration: doc({
      int: flag('INTEGER', { v: 3.5 }, [alloc('all', [split('v')])]),
      bool: flag('BOOLEAN', { v: 'true' }, [alloc('all', [split('v')])]),
      str: flag('STRING', { v: 5 }, [alloc('all', [split('v')])]),
      json: flag('JSON', { v: { a: 1 } }, [alloc('all', [split('v')])]),
      quiet: flag('INTEGER', { v: '3' }, [alloc('all', [split('v')], { doLog: false })]),
    }),
    assignmentLogger: { logAssignment: (e) => void events.push(e) },
  });
  const cases: [string, Getter, unknown, string][] = [
    ['int', 'Integer', 7, 'Variation (v) is configured for type INTEGER, but is set to incompatible value (3.5)'],
    ['bool', 'Boolean', false, 'Variation (v) is configured for type BOOLEAN, but is set to incompatible value (true)'],
    ['str', 'String', 'd', 'Variation (v) is configured for type STRING, but is set to incompatible value (5)'],
    ['json', 'JSON', null, 'Variation (v) is configured for type JSON, but is set to incompatible value ([object Object])'],
    ['quiet', 'Integer', 7, 'Variation (v) is configured for type INTEGER, but is set to incompatible value (3)'],
  ];
  for (const [key, g, dflt, description] of cases) {
    const d = details(client, g, key, 'alice', {}, dflt);
    assert.equal(d.evaluationDetails.flagEvaluationCode, 'ASSIGNMENT_ERROR', key);
    assert.equal(d.evaluationDetails.flagEvaluationDescription, description, key);
    assert.equal(d.evaluationDetails.variationKey, 'v', key);
    assert.equal(d.variation, dflt, key);
  }
  assert.deepEqual(events.map((e) => e.featureFlag), ['int', 'bool', 'str', 'json']);
});

t('falsy variation values 0, false and "" are returned, not the default', () => {
  const client = offlineInit({
    flagsConfiguration: doc({
      int: flag('INTEGER', { v: 0 }, [alloc('all', [split('v')])]),
      num: flag('NUMERIC', { v: 0 }, [alloc('all', [split('v')])]),
      bool: flag('BOOLEAN', { v: false }, [alloc('all', [split('v')])]),
      str: flag('STRING', { v: '' }, [alloc('all', [split('v')])]),
    }),
  });
  assert.equal(get(client, 'Integer', false, 'int', 'alice', {}, 7), 0);
  assert.equal(get(client, 'Numeric', false, 'num', 'alice', {}, 7), 0);
  assert.equal(get(client, 'Boolean', false, 'bool', 'alice', {}, true), false);
  assert.equal(get(client, 'String', false, 'str', 'alice', {}, 'd'), '');
});

t('type is checked before enabled: TYPE_MISMATCH for a disabled flag read with the wrong getter', () => {
  const client = offlineInit({
    flagsConfiguration: doc({
      off: flag('STRING', { a: 'A' }, [alloc('all', [split('a')])], { enabled: false }),
      noEnabled: flag('STRING', { a: 'A' }, [alloc('all', [split('a')])], { enabled: undefined }),
      int: flag('INTEGER', { one: 1 }, [alloc('all', [split('one')])]),
    }),
  });
  const mismatch = details(client, 'Boolean', 'off', 'alice', {}, true);
  assert.equal(mismatch.evaluationDetails.flagEvaluationCode, 'TYPE_MISMATCH');
  assert.equal(mismatch.evaluationDetails.flagEvaluationDescription, 'Variation value does not have the correct type. Found STRING, but expected BOOLEAN for flag off');
  assert.equal(mismatch.variation, true);
  const disabled = details(client, 'String', 'off', 'alice', {}, 'd');
  assert.equal(disabled.evaluationDetails.flagEvaluationCode, 'FLAG_UNRECOGNIZED_OR_DISABLED');
  assert.equal(disabled.evaluationDetails.flagEvaluationDescription, 'Unrecognized or disabled flag: off');
  assert.equal(details(client, 'String', 'noEnabled', 'alice', {}, 'd').evaluationDetails.flagEvaluationCode, 'FLAG_UNRECOGNIZED_OR_DISABLED');
  assert.equal(details(client, 'Numeric', 'int', 'alice', {}, 0).evaluationDetails.flagEvaluationCode, 'TYPE_MISMATCH');
});

t('time windows are inclusive at both ends with the injected clock', () => {
  const start = Date.parse('2024-01-01T00:00:00.000Z');
  const end = Date.parse('2024-12-31T23:59:59.999Z');
  let now = start;
  const client = offlineInit({
    flagsConfiguration: doc({
      w: flag('STRING', { in: 'in' }, [alloc('window', [split('in')], { startAt: '2024-01-01T00:00:00.000Z', endAt: '2024-12-31T23:59:59.999Z' })]),
      garbage: flag('STRING', { in: 'in' }, [alloc('window', [split('in')], { startAt: 'not a date', endAt: 'never' })]),
    }),
    now: () => now,
  });
  const cases: [string, number, string, string | null][] = [
    ['before start', start - 1, 'd', 'BEFORE_START_TIME'],
    ['at start', start, 'in', null],
    ['inside', start + 86_400_000, 'in', null],
    ['at end', end, 'in', null],
    ['after end', end + 1, 'd', 'AFTER_END_TIME'],
  ];
  for (const [name, at, want, unmatched] of cases) {
    now = at;
    const d = details(client, 'String', 'w', 'alice', {}, 'd');
    assert.equal(d.variation, want, name);
    assert.deepEqual(d.evaluationDetails.unmatchedAllocations.map((u) => u.allocationEvaluationCode), unmatched ? [unmatched] : [], name);
    // Unparseable bounds are ignored, as Eppo's Invalid Date comparisons are false.
    assert.equal(details(client, 'String', 'garbage', 'alice', {}, 'd').variation, 'in', name);
  }
});

t('offlineInit() with junk options throws a TypeError with a clear message', () => {
  for (const options of [undefined, null, 42, 'x', Symbol('o'), [], {}, { flagsConfiguration: null }, { flagsConfiguration: undefined }]) {
    assert.throws(() => (offlineInit as (o: unknown) => unknown)(options), (err: unknown) => err instanceof TypeError && /offlineInit\(\).*flagsConfiguration/.test(err.message), String(options));
  }
  for (const input of [42, true]) assert.throws(() => offlineInit({ flagsConfiguration: input }), ConfigError);
});

t('offlineInit() rejects junk option values with a TypeError naming the option', () => {
  const cfg = JSON.stringify(BASE);
  const junkOptions: [string, Json][] = [
    ['now: 5', { now: 5 }],
    ['now: "x"', { now: 'x' }],
    ['assignmentLogger: 42', { assignmentLogger: 42 }],
    ['assignmentLogger: {}', { assignmentLogger: {} }],
    ['logger: 5', { logger: 5 }],
    ['kernel: "gpu"', { kernel: 'gpu' }],
    ['assignmentCacheSize: "big"', { assignmentCacheSize: 'big' }],
    ['assignmentCacheSize: -1', { assignmentCacheSize: -1 }],
  ];
  for (const [name, extra] of junkOptions) {
    assert.throws(
      () => (offlineInit as (o: unknown) => unknown)({ flagsConfiguration: cfg, ...extra }),
      (err: unknown) => err instanceof TypeError && err.message.includes(Object.keys(extra)[0]),
      `offlineInit({ ${name} }) should throw a TypeError naming the option`,
    );
  }
});

// ---- Seeded fuzz over sdk-test-data's flags-v1.json ----


type Node = Record<string, unknown> | unknown[];
const REPLACEMENTS: unknown[] = [null, undefined, 0, -1, 1.5, 1e300, Number.NaN, '', 'x', 'STRING', 'constructor', '__proto__', true, false,
  [], {}, [null], { key: 'x' }, '(', '^(a+)+$', '(?=a)', '1.0.0', 'v1.2.3', '2050-01-01T00:00:00Z', 'garbage date', 'IS_NULL', 'ONE_OF', 'MATCHES', 'GT',
  LONE, 10000, 4294967296];

function paths(root: unknown): [Node, string | number][] {
  const out: [Node, string | number][] = [];
  const walk = (node: unknown) => {
    if (Array.isArray(node)) node.forEach((v, i) => { out.push([node, i]); walk(v); });
    else if (node !== null && typeof node === 'object') for (const k of Object.keys(node)) { out.push([node as Json, k]); walk((node as Json)[k]); }
  };
  walk(root);
  return out;
}

if (hasTestData('robustness fuzz')) {
  t('fuzz: 2,000 mutated flags-v1.json configs load or throw ConfigError/SyntaxError, and no getter ever throws', () => {
    const text = readText(TEST_DATA, 'ufc', 'flags-v1.json');
    const original = JSON.parse(text) as { flags: Record<string, { variationType: string }> };
    const keys = Object.keys(original.flags);
    const rand = mulberry32(20240417);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
    const SUBJECTS: [unknown, unknown][] = [['alice', { email: 'alice@mycompany.com', country: 'US', age: 50, version: '1.2.3' }], ['bob', {}],
      ['zach', { id: 'override-id' }], [LONE, { country: null }], ['', {}], ['pete', { country: Symbol('c') }]];
    let loaded = 0;
    let rejected = 0;
    let evaluations = 0;
    for (let i = 0; i < 2000; i++) {
      const mutated = structuredClone(original) as Json;
      const n = 1 + Math.floor(rand() * 3);
      for (let k = 0; k < n; k++) {
        const all = paths(mutated);
        const [parent, key] = pick(all);
        const r = rand();
        if (r < 0.3) {
          if (Array.isArray(parent)) parent.splice(key as number, 1);
          else delete parent[key as string];
        } else if (r < 0.9) (parent as Json)[key as string] = structuredClone(pick(REPLACEMENTS));
        else (parent as Json)[key as string] = structuredClone(pick(all)[0]); // a subtree moved elsewhere
      }
      const input = rand() < 0.5 ? JSON.stringify(mutated) : mutated;
      let client: SaltshardClient;
      try {
        client = offlineInit({ flagsConfiguration: input, logger: { warn() {}, error() {} } } as never);
        loaded++;
      } catch (err) {
        assert.ok(err instanceof ConfigError || err instanceof SyntaxError, `mutation ${i}: ${String(err)}`);
        rejected++;
        continue;
      }
      for (const key of keys) {
        const [subject, attrs] = pick(SUBJECTS);
        for (const g of GETTERS) {
          let d: Details;
          try {
            d = details(client, g, key, subject, attrs, 'default');
          } catch (err) {
            assert.fail(`mutation ${i}: get${g}AssignmentDetails(${key}) threw ${String(err)}`);
          }
          evaluations++;
          if (d.evaluationDetails.flagEvaluationCode !== 'MATCH') assert.equal(d.variation, 'default', `mutation ${i} ${key}`);
          else if (TYPE_OF[g] !== 'JSON') {
            const want = { STRING: 'string', BOOLEAN: 'boolean', INTEGER: 'number', NUMERIC: 'number' }[TYPE_OF[g]];
            assert.equal(typeof d.variation, want, `mutation ${i} ${g} ${key}: ${String(d.variation)}`);
          }
        }
      }
    }
    assert.ok(loaded > 500 && rejected > 0, `loaded ${loaded}, rejected ${rejected}`);
    assert.ok(evaluations > 100_000, `${evaluations} evaluations`);
  });

  t('the quick flag check for JSON text accepts only what the schema accepts; text and object inputs give the same details', () => {
    const text = readText(TEST_DATA, 'ufc', 'flags-v1.json');
    const original = JSON.parse(text) as { flags: Record<string, Json> };
    const flags = Object.values(original.flags);
    for (const f of flags) assert.ok(isFlagWire(f), `unmutated flag ${String(f.key)} takes the quick path`);
    const rand = mulberry32(77);
    let quick = 0;
    let schemaOnly = 0;
    for (let i = 0; i < 4000; i++) {
      const mutated = structuredClone(flags[Math.floor(rand() * flags.length)]);
      for (let k = 1 + Math.floor(rand() * 3); k > 0; k--) {
        const all = paths(mutated);
        if (all.length === 0) break;
        const [parent, key] = all[Math.floor(rand() * all.length)];
        if (rand() < 0.3) {
          if (Array.isArray(parent)) parent.splice(key as number, 1);
          else delete parent[key as string];
        } else (parent as Json)[key as string] = structuredClone(REPLACEMENTS[Math.floor(rand() * REPLACEMENTS.length)]);
      }
      // What parseConfig sees after parsing text itself.
      const seen: unknown = JSON.parse(JSON.stringify(mutated));
      const schema = v.safeParse(FlagSchema, seen).success;
      if (isFlagWire(seen)) {
        quick++;
        assert.ok(schema, `mutation ${i}: the quick check accepted what the schema rejects: ${JSON.stringify(seen).slice(0, 400)}`);
      } else if (schema) schemaOnly++;
    }
    assert.ok(quick > 400, `${quick} mutated flags took the quick path`);
    console.log(`  quick flag check: ${quick} of 4000 mutated flags accepted, ${schemaOnly} more accepted by the schema only`);
    // Same answers and details whether the document arrives as text (quick path) or as an object (schema copies).
    const fromText = offlineInit({ flagsConfiguration: text, assignmentLogger: null });
    const fromObject = offlineInit({ flagsConfiguration: JSON.parse(text), assignmentLogger: null });
    const getterOf: Record<string, Getter> = { STRING: 'String', BOOLEAN: 'Boolean', INTEGER: 'Integer', NUMERIC: 'Numeric', JSON: 'JSON' };
    let compared = 0;
    for (const file of listJson(join(TEST_DATA, 'ufc', 'tests'))) {
      const c = readJson<{ flag: string; variationType: string; defaultValue: unknown; subjects: { subjectKey: string; subjectAttributes: Json }[] }>(TEST_DATA, 'ufc', 'tests', file);
      for (const s of c.subjects) {
        const g = getterOf[c.variationType] ?? 'String';
        // Everything but when each config was loaded.
        const [a, b] = [fromText, fromObject].map((client) => {
          const d = details(client, g, c.flag, s.subjectKey, s.subjectAttributes, c.defaultValue);
          return { ...d, evaluationDetails: { ...d.evaluationDetails, configFetchedAt: '' } };
        });
        assert.deepEqual(a, b, `${file} ${s.subjectKey}`);
        compared++;
      }
    }
    assert.ok(compared > 100, `${compared} subjects compared`);
  });
}

t.run();
