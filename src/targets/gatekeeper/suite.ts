// The fixture corpus as a gator Suite (generated/<rule-set>/gatekeeper/tests/): `gator verify`
// runs it against the template's CEL block, and with `--enable-k8s-native-validation=false`
// against its Rego block. A test per constraint; a case per fixture the Kyverno suites run too
// (default parameters, an object that reaches admission; gator reads one object per file, so
// each is its own file under cases/). Out-of-scope pods are cases too: they expect nothing.
//
// Assertions are on rule IDs, which both blocks put at the head of each message (the CEL block
// one message per action, `<ID>, <ID> failed :: [...]`; the Rego block one per fact, `<ID> deny
// ...`): each rule the fixture expects with the constraint's action is reported, and no other
// rule is. The exact facts are the matrix's to compare.

import type { Fixture } from '../../fixtures/corpus.ts';
import type { ParamValues, RuleSet } from '../../ir/types.ts';
import { admittedFixtures } from '../kyverno/tests.ts';
import type { ConstraintInput } from './lower.ts';

export interface GatorAssertion {
  readonly violations: 'yes' | 'no';
  /** A Go regular expression on a violation's message; absent: any violation. */
  readonly message: string | null;
}

export interface GatorCase {
  readonly name: string;
  readonly object: string;
  readonly assertions: readonly GatorAssertion[];
}

export interface GatorSuiteInput {
  readonly name: string;
  readonly ruleSet: string;
  readonly tests: readonly { readonly name: string; readonly template: string; readonly constraint: string; readonly cases: readonly GatorCase[] }[];
}

export interface GatorSuite {
  readonly input: GatorSuiteInput;
  /** tests/cases/<name>.yaml: one object each. */
  readonly cases: ReadonlyMap<string, string>;
}

const escapeRe = (s: string) => s.replace(/[.*+?^$()[\]{}|\\]/g, '\\$&');
/** A message naming one of the rules at its head: `<ID> …` (Rego), or `<ID>, ` / `, <ID> failed` (CEL). */
const naming = (ids: readonly string[]) => `(^|, )(${ids.map(escapeRe).join('|')})[ ,]`;

export function lowerGatorSuite(
  rs: RuleSet,
  params: ParamValues,
  template: string,
  constraints: readonly { readonly constraint: ConstraintInput; readonly file: string }[],
  fixtures: readonly Fixture[],
): GatorSuite {
  const { admitted } = admittedFixtures(rs, params, fixtures);
  const cases = new Map(admitted.map((a) => [`cases/${a.name}.yaml`, `${a.document}\n`]));
  const allIds = [rs.inputRule.id, ...rs.rules.map((r) => r.id)];
  const tests = constraints.map(({ constraint, file }) => ({
    name: constraint.name,
    template: `../${template}`,
    constraint: `../${file}`,
    cases: admitted.map(({ fixture, name }): GatorCase => {
      const expected = [...new Set(fixture.expect.filter((e) => e.action === constraint.action).map((e) => e.rule))].sort();
      const others = allIds.filter((id) => !expected.includes(id));
      const assertions: GatorAssertion[] = expected.length
        ? [...expected.map((id) => ({ violations: 'yes' as const, message: naming([id]) })), ...(others.length ? [{ violations: 'no' as const, message: naming(others) }] : [])]
        : [{ violations: 'no', message: null }];
      return { name, object: `cases/${name}.yaml`, assertions };
    }),
  }));
  return { input: { name: `${rs.name.replace(/_/g, '-')}-gatekeeper`, ruleSet: rs.name, tests }, cases };
}
