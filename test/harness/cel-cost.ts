// The CEL cost of the generated admission policies, measured by tools/cel-cost on Kubernetes' own
// CEL library (its base environment and cost model): for each policy (a ValidatingPolicy, a
// ValidatingAdmissionPolicy with its parameters, the Gatekeeper template's CEL block under each
// constraint), each expression's estimate (cel-go's estimator) and its largest actual cost over
// the objects, and per object the sum over the policy's expressions.

import { execFileSync } from 'node:child_process';
import { parse } from 'yaml';
import type { CompiledRuleSet } from '../../src/emit/build.ts';
import { engine } from './engines.ts';

export interface ExpressionCost {
  readonly name: string;
  readonly estimateMax: number;
  /** The estimator could not bound it (object sizes are unknown to it). */
  readonly unbounded: boolean;
  readonly actualMax: number;
  readonly length: number;
}

export interface PolicyCost {
  /** `<folder>/<file>` (and the constraint, for Gatekeeper). */
  readonly policy: string;
  readonly expressions: readonly ExpressionCost[];
  /** The largest per-object sum of the actual costs. */
  readonly totalMax: number;
  readonly objects: number;
}

interface Spec {
  readonly variables: readonly { name: string; expression: string }[];
  readonly validations: readonly { expression: string; messageExpression: string }[];
  readonly matchConditions?: readonly { name: string; expression: string }[];
  readonly matchCondition?: readonly { name: string; expression: string }[];
}

function measure(policy: string, spec: Spec, params: unknown, objects: readonly unknown[], extraVariables: readonly { name: string; expression: string }[] = []): PolicyCost {
  const input = {
    variables: [...extraVariables, ...spec.variables],
    expressions: [
      ...(spec.matchConditions ?? spec.matchCondition ?? []).map((m) => ({ name: `matchCondition ${m.name}`, expression: m.expression })),
      ...spec.validations.flatMap((v, i) => [
        { name: `validation ${i}`, expression: v.expression },
        { name: `messageExpression ${i}`, expression: v.messageExpression, onFailureOf: `validation ${i}` },
      ]),
    ],
    params,
    objects,
  };
  const out = JSON.parse(execFileSync(engine('cel-cost'), { input: JSON.stringify(input), maxBuffer: 256 << 20 }).toString()) as {
    expressions: ExpressionCost[];
    totals: number[];
  };
  return { policy, expressions: out.expressions, totalMax: Math.max(0, ...out.totals), objects: objects.length };
}

/** Every CEL admission policy of the compiled rule set, measured over the objects. */
export function celCosts(c: CompiledRuleSet, objects: readonly unknown[]): PolicyCost[] {
  const file = (rel: string) => c.files.get(rel) as string | undefined;
  const out: PolicyCost[] = [];
  for (const rel of [...c.files.keys()].filter((f) => /^kyverno-vpol\/validatingpolicy-\w+\.yaml$/.test(f)).sort()) {
    out.push(measure(rel, (parse(file(rel)!) as { spec: Spec }).spec, null, objects));
  }
  const configMap = file('vap/params.yaml');
  for (const rel of [...c.files.keys()].filter((f) => /^vap\/policy-\w+\.yaml$/.test(f)).sort()) {
    out.push(measure(rel, (parse(file(rel)!) as { spec: Spec }).spec, configMap ? parse(configMap) : null, objects));
  }
  const template = parse(file('gatekeeper/template.yaml')!) as { spec: { targets: { code: { engine: string; source: Spec }[] }[] } };
  const source = template.spec.targets[0]!.code.find((x) => x.engine === 'K8sNativeValidation')!.source;
  for (const rel of [...c.files.keys()].filter((f) => /^gatekeeper\/constraint-\w+\.yaml$/.test(f)).sort()) {
    // Gatekeeper binds `variables.params` to the constraint's spec.parameters (pkg/drivers/k8scel/transform).
    out.push(measure(`gatekeeper/template.yaml with ${rel.split('/')[1]}`, source, parse(file(rel)!), objects, [{ name: 'params', expression: 'params.spec.parameters' }]));
  }
  return out;
}
