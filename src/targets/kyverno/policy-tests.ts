// The fixture corpus as a `kyverno test` suite for rule-less policies, one per action: the
// ValidatingPolicies (generated/<rule-set>/kyverno-vpol/tests/) and the ValidatingAdmission-
// Policies with their bindings and parameters (generated/<rule-set>/vap/tests/). The fixtures
// are those the Kyverno suites can run (default parameters, an object that reaches admission,
// in the selector's scope); each policy must fail where the fixture expects a violation with
// its action, else pass. A pod out of scope is not matched at all (matchConditions), so it is
// left to the matrix.

import type { Fixture } from '../../fixtures/corpus.ts';
import type { Action, ParamValues, RuleSet } from '../../ir/types.ts';
import { admittedFixtures, groupResults } from './tests.ts';

export interface PolicyTestResult {
  readonly policy: string;
  readonly kind: string;
  readonly result: 'pass' | 'fail';
  readonly resources: readonly string[];
}

export interface PolicyTestsInput {
  readonly name: string;
  readonly ruleSet: string;
  /** The folder the suite is in, under generated/<rule-set>/. */
  readonly folder: string;
  /** `isValidatingPolicy` or `isValidatingAdmissionPolicy`. */
  readonly flag: string;
  readonly policyFiles: readonly string[];
  readonly paramFiles: readonly string[];
  readonly results: readonly PolicyTestResult[];
}

export interface SuitePolicy {
  readonly name: string;
  readonly action: Action;
  readonly ruleIds: readonly string[];
}

export function lowerPolicyTests(
  rs: RuleSet,
  params: ParamValues,
  suite: { readonly folder: string; readonly flag: string; readonly policies: readonly SuitePolicy[]; readonly files: readonly string[]; readonly paramFiles?: readonly string[] },
  fixtures: readonly Fixture[],
): { readonly input: PolicyTestsInput; readonly resources: string; readonly fixtures: number } {
  const { admitted, resources } = admittedFixtures(rs, params, fixtures);
  const scoped = admitted.filter((a) => a.scoped);
  const rows = scoped.flatMap(({ fixture, name, kind }) =>
    suite.policies.map((policy) => ({
      policy: policy.name,
      rule: '',
      kind,
      result: fixture.expect.some((e) => e.action === policy.action && policy.ruleIds.includes(e.rule)) ? ('fail' as const) : ('pass' as const),
      resource: name,
    })),
  );
  return {
    input: {
      name: `${rs.name.replace(/_/g, '-')}-${suite.folder}`,
      ruleSet: rs.name,
      folder: suite.folder,
      flag: suite.flag,
      policyFiles: suite.files.map((f) => `../${f}`),
      paramFiles: (suite.paramFiles ?? []).map((f) => `../${f}`),
      results: groupResults(rows).map(({ rule: _, ...r }) => r),
    },
    resources,
    fixtures: scoped.length,
  };
}
