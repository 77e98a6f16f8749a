import { test } from 'uvu';
import * as assert from 'node:assert/strict';
test('smoke', () => { assert.equal(1 + 1, 2); });
test.run();
