// The fixture corpus as a `kyverno test` suite (generated/<rule-set>/kyverno/tests/): the
// fixtures that run with the default parameters and reach admission (see admissionObject), with
// the result every rule of the policy must give each of them: fail where the fixture expects a
// violation of that rule and action, else pass, or skip when the pod is out of scope.

import type { Fixture } from '../../fixtures/corpus.ts';
import { admissionObject, getPath, templatePath } from '../../fixtures/corpus.ts';
import type { ParamValues, RuleSet } from '../../ir/types.ts';
import type { KyvernoTemplateInput } from './lower.ts';

export interface KyvernoTestResult {
  readonly rule: string;
  readonly kind: string;
  readonly result: 'pass' | 'fail' | 'skip';
  readonly resources: readonly string[];
}

export interface KyvernoTestsInput {
  readonly name: string;
  readonly policyName: string;
  readonly results: readonly KyvernoTestResult[];
}

export interface KyvernoTests {
  readonly input: KyvernoTestsInput;
  /** JSON documents (a YAML subset Kyverno's YAML 1.1 reader cannot misread), `---` separated. */
  readonly resources: string;
  readonly fixtures: number;
}

const resourceName = (fixture: string) => `fx-${fixture.replace(/\.yaml$/, '').toLowerCase().replace(/[^a-z0-9]+/g, '-')}`;

function inScope(object: Record<string, unknown>, selector: Readonly<Record<string, string>>): boolean {
  const labels = getPath(object, [...templatePath(object['kind']), 'metadata', 'labels']);
  return Object.entries(selector).every(([k, v]) => labels && typeof labels === 'object' && (labels as Record<string, unknown>)[k] === v);
}

export function lowerKyvernoTests(rs: RuleSet, params: ParamValues, policy: KyvernoTemplateInput, fixtures: readonly Fixture[]): KyvernoTests {
  const selector = (params[rs.selectorParam] as { matchLabels?: Record<string, string> } | undefined)?.matchLabels ?? {};
  const grouped = new Map<string, { rule: string; kind: string; result: KyvernoTestResult['result']; resources: string[] }>();
  const docs: string[] = [];
  for (const fixture of fixtures) {
    if (fixture.params && Object.keys(fixture.params).length) continue;
    const adm = admissionObject(fixture, rs.inputRule.id);
    if ('reason' in adm) continue;
    const name = resourceName(fixture.name);
    const object: Record<string, unknown> = { ...adm.object, metadata: { ...(adm.object['metadata'] as object), name } };
    docs.push(JSON.stringify(object));
    const kind = String(object['kind']);
    const scoped = inScope(object, selector);
    for (const rule of policy.rules.filter((r) => r.kinds.includes(kind))) {
      const action = rule.failureAction === 'Enforce' ? 'deny' : 'warn';
      const fails = fixture.expect.some((e) => e.rule === rule.ruleId && e.action === action);
      const result = !scoped ? 'skip' : fails ? 'fail' : 'pass';
      const key = `${rule.name}\0${kind}\0${result}`;
      if (!grouped.has(key)) grouped.set(key, { rule: rule.name, kind, result, resources: [] });
      grouped.get(key)!.resources.push(name);
    }
  }
  const results = [...grouped.values()].sort((a, b) =>
    a.rule !== b.rule ? (a.rule < b.rule ? -1 : 1) : a.kind !== b.kind ? (a.kind < b.kind ? -1 : 1) : a.result < b.result ? -1 : a.result > b.result ? 1 : 0,
  );
  return {
    input: { name: rs.name.replace(/_/g, '-'), policyName: policy.policyName, results },
    resources: `${docs.join('\n---\n')}\n`,
    fixtures: docs.length,
  };
}
