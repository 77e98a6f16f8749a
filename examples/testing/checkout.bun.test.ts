// bun test examples/testing/checkout.bun.test.ts
import { expect, test } from 'bun:test';
import { TestData, testClient, withForcedValues } from 'saltshard/testing';
import { checkoutPage } from './checkout.mjs';

test('plain values', () => {
  const flags = testClient({ 'new-checkout': true, 'button-color': 'blue' });
  expect(checkoutPage(flags, 'user-1', {})).toBe('one-page checkout, blue button');
});

test('targeted values and a percentage split', () => {
  const td = new TestData();
  td.flag('new-checkout').when({ country: ['FR'] }, true).serve(false);
  td.flag('button-color').forSubjects(['qa-bot'], 'red').split({ blue: 50, green: 50 });
  const flags = td.client();
  expect(checkoutPage(flags, 'qa-bot', { country: 'FR' })).toBe('one-page checkout, red button');
  expect(checkoutPage(flags, 'user-7', { country: 'US' })).toMatch(/^classic checkout, (blue|green) button$/);
});

test('forced values on an existing client, for this test only', async () => {
  const flags = testClient({ 'new-checkout': false, 'button-color': 'blue' });
  await withForcedValues(flags, { 'new-checkout': true }, () => {
    expect(checkoutPage(flags, 'user-1', {})).toBe('one-page checkout, blue button');
  });
  expect(checkoutPage(flags, 'user-1', {})).toBe('classic checkout, blue button');
});
