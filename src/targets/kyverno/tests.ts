// The fixture corpus as a `kyverno test` suite (generated/<rule-set>/kyverno/tests/): the
// fixtures that run with the default parameters and reach admission (see admissionObject), with
// the result every rule of the policy must give each of them: fail where the fixture expects a
// violation of that rule and action, else pass, or skip when the pod is out of scope.

import type { Fixture } from '../../fixtures/corpus.ts';
import { selectorLabels } from '../../ir/params.ts';
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

/** One fixture as the Kyverno suites send it: named, with its kind and whether the selector takes it. */
export interface AdmittedFixture {
  readonly fixture: Fixture;
  readonly name: string;
  readonly kind: string;
  readonly scoped: boolean;
  /** The object as JSON (a YAML subset no YAML 1.1 reader misreads). */
  readonly document: string;
}

/**
 * The fixtures a Kyverno suite can run: default parameters (the policies have them compiled in)
 * and an object that reaches admission; with their resource documents (JSON, `---` separated).
 */
export function admittedFixtures(rs: RuleSet, params: ParamValues, fixtures: readonly Fixture[]): { readonly admitted: AdmittedFixture[]; readonly resources: string } {
  const selector = selectorLabels(rs, params);
  const admitted: AdmittedFixture[] = [];
  const docs: string[] = [];
  for (const fixture of fixtures) {
    if (fixture.params && Object.keys(fixture.params).length) continue;
    const adm = admissionObject(fixture, rs.inputRule.id);
    if ('reason' in adm) continue;
    const name = resourceName(fixture.name);
    const object: Record<string, unknown> = { ...adm.object, metadata: { ...(adm.object['metadata'] as object), name } };
    const document = JSON.stringify(object);
    docs.push(document);
    admitted.push({ fixture, name, kind: String(object['kind']), scoped: inScope(object, selector), document });
  }
  return { admitted, resources: `${docs.join('\n---\n')}\n` };
}

/** Results grouped by (policy, rule, kind, result), in a stable order. */
export function groupResults<R extends { readonly policy: string; readonly rule: string; readonly kind: string; readonly result: string }>(
  rows: readonly (R & { readonly resource: string })[],
): (R & { resources: string[] })[] {
  const grouped = new Map<string, R & { resources: string[] }>();
  for (const { resource, ...row } of rows) {
    const key = `${row.policy}\0${row.rule}\0${row.kind}\0${row.result}`;
    if (!grouped.has(key)) grouped.set(key, { ...(row as unknown as R), resources: [] });
    grouped.get(key)!.resources.push(resource);
  }
  const order = (a: R, b: R) => (a.policy !== b.policy ? (a.policy < b.policy ? -1 : 1) : a.rule !== b.rule ? (a.rule < b.rule ? -1 : 1) : a.kind !== b.kind ? (a.kind < b.kind ? -1 : 1) : a.result < b.result ? -1 : a.result > b.result ? 1 : 0);
  return [...grouped.values()].sort(order);
}

export function lowerKyvernoTests(rs: RuleSet, params: ParamValues, policy: KyvernoTemplateInput, fixtures: readonly Fixture[]): KyvernoTests {
  const { admitted, resources } = admittedFixtures(rs, params, fixtures);
  const rows = admitted.flatMap(({ fixture, name, kind, scoped }) =>
    policy.rules
      .filter((r) => r.kinds.includes(kind))
      .map((rule) => {
        const action = rule.failureAction === 'Enforce' ? 'deny' : 'warn';
        const fails = fixture.expect.some((e) => e.rule === rule.ruleId && e.action === action);
        const result: KyvernoTestResult['result'] = !scoped ? 'skip' : fails ? 'fail' : 'pass';
        return { policy: policy.policyName, rule: rule.name, kind, result, resource: name };
      }),
  );
  const results = groupResults(rows).map(({ policy: _, ...r }) => r);
  return {
    input: { name: rs.name.replace(/_/g, '-'), policyName: policy.policyName, results },
    resources,
    fixtures: admitted.length,
  };
}
