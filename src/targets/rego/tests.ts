// The fixture corpus as an `opa test` suite (generated/<rule-set>/rego/policy_test.rego), so
// users can run OPA's own test tool on the published policy.

import type { Fixture } from '../../fixtures/corpus.ts';
import { fixtureParams } from '../../fixtures/corpus.ts';
import type { ParamValues, RuleSet } from '../../ir/types.ts';

export interface RegoTestCase {
  readonly name: string;
  readonly identifier: string;
  readonly input: unknown;
  readonly params: unknown;
  readonly wants: unknown;
}

export interface RegoTestsInput {
  readonly packageName: string;
  readonly cases: readonly RegoTestCase[];
}

/** Rego test names: `test_` and the fixture path with every other character as `_`. */
function identifier(name: string, used: Set<string>): string {
  const base = `test_${name.replace(/\.yaml$/, '').replace(/[^A-Za-z0-9]/g, '_')}`;
  let id = base;
  for (let n = 2; used.has(id); n++) id = `${base}_${n}`;
  used.add(id);
  return id;
}

export function lowerTests(rs: RuleSet, defaults: ParamValues, fixtures: readonly Fixture[]): RegoTestsInput {
  const used = new Set<string>();
  return {
    packageName: rs.name,
    cases: fixtures.map((f) => ({
      name: f.name,
      identifier: identifier(f.name, used),
      input: f.input ?? null,
      params: fixtureParams(rs, defaults, f),
      // A pod-level expectation names no container: the report must not either.
      wants: f.expect.map((e) => ({ list: null, container: null, ...e })),
    })),
  };
}
