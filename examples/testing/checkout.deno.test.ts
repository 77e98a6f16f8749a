// deno test --import-map examples/testing/import_map.json examples/testing/checkout.deno.test.ts
// (the import map points the JSR package at this repository's sources; in your project, `deno add jsr:@saltshard/saltshard`.)
import assert from 'node:assert/strict';
import { TestData, testClient, withForcedValues } from '@saltshard/saltshard/testing';
import { checkoutPage } from './checkout.mjs';

Deno.test('plain values', () => {
  const flags = testClient({ 'new-checkout': true, 'button-color': 'blue' });
  assert.equal(checkoutPage(flags, 'user-1', {}), 'one-page checkout, blue button');
});

Deno.test('targeted values and a percentage split', () => {
  const td = new TestData();
  td.flag('new-checkout').when({ country: ['FR'] }, true).serve(false);
  td.flag('button-color').forSubjects(['qa-bot'], 'red').split({ blue: 50, green: 50 });
  const flags = td.client();
  assert.equal(checkoutPage(flags, 'qa-bot', { country: 'FR' }), 'one-page checkout, red button');
  assert.match(checkoutPage(flags, 'user-7', { country: 'US' }), /^classic checkout, (blue|green) button$/);
});

Deno.test('forced values on an existing client, for this test only', async () => {
  const flags = testClient({ 'new-checkout': false, 'button-color': 'blue' });
  await withForcedValues(flags, { 'new-checkout': true }, () => {
    assert.equal(checkoutPage(flags, 'user-1', {}), 'one-page checkout, blue button');
  });
  assert.equal(checkoutPage(flags, 'user-1', {}), 'classic checkout, blue button');
});
