// Every fixture through the compiled WASM policy (@open-policy-agent/opa-wasm): the exact set
// of violations, by their facts, must be the one declared next to the fixture.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadWasmPolicy } from '../../src/eval/wasm.ts';
import { compiled, fixtureParams, wasmOf } from '../harness/compiled.ts';
import { compareFacts, formatDiff } from '../harness/facts.ts';
import { loadFixtures } from '../harness/fixtures.ts';

const RULE_SETS = ['eci'];

for (const ruleSet of RULE_SETS) {
  const fixtures = loadFixtures(ruleSet);
  const c = await compiled(ruleSet);
  const policy = await loadWasmPolicy(wasmOf(c), c.ruleSet.name, c.params);

  test(`${ruleSet}: fixture corpus is not empty`, () => {
    assert.ok(fixtures.length > 0);
  });

  for (const fixture of fixtures) {
    test(`${ruleSet} wasm: ${fixture.name}`, () => {
      policy.setParams(fixtureParams(c, fixture));
      const diff = compareFacts(fixture.expect, policy.violations(fixture.input));
      if (diff.missing.length || diff.unexpected.length) assert.unreachable(formatDiff(fixture.name, 'opa-wasm', diff));
    });
  }
}

test.run();
