// compareFacts: exact matching, and a leg's count of the facts it could not list.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compareFacts, OMITTED_RULE } from './facts.ts';

const expected = [1, 2, 3].map((i) => ({ rule: 'R', action: 'deny' as const, path: `spec.x[${i}]` }));

test('every expected fact must be reported, and nothing else', () => {
  assert.equal(compareFacts(expected, expected), { missing: [], unexpected: [] });
  assert.is(compareFacts(expected, expected.slice(1)).missing.length, 1);
  assert.is(compareFacts(expected.slice(1), expected).unexpected.length, 1);
});

test('a count of unlisted facts passes only when the listed ones are expected and the count is exact', () => {
  const more = (n: number) => ({ rule: OMITTED_RULE, action: 'deny', path: `(${n} more)` });
  assert.equal(compareFacts(expected, [expected[0]!, more(2)]), { missing: [], unexpected: [] });
  // A disagreement shows the unlisted facts as missing and the count as unexpected.
  assert.equal(compareFacts(expected, [expected[0]!, more(1)]), { missing: expected.slice(1), unexpected: [more(1)] }, 'one too few counted');
  assert.equal(compareFacts(expected, [expected[0]!, more(3)]), { missing: expected.slice(1), unexpected: [more(3)] }, 'one too many counted');
  const stray = { rule: 'R', action: 'deny', path: 'spec.y' };
  assert.equal(compareFacts(expected, [stray, more(2)]), { missing: expected, unexpected: [stray, more(2)] }, 'a listed fact not expected');
});

test.run();
