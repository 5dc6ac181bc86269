// The CEL admission policies within Kubernetes' cost limits, measured on Kubernetes' own CEL
// library (tools/cel-cost, k8s.io/apiserver v0.36): every expression of every ValidatingPolicy,
// ValidatingAdmissionPolicy and Gatekeeper CEL block compiles in the API server's base CEL
// environment, and over the fixture corpus plus a 50-container pod breaking several rules in
// each container, each expression stays within the per-call limit (1,000,000) and each
// policy's evaluation within 1,000,000 too: Gatekeeper's budget for a constraint's whole
// evaluation (celAPI.PerCallLimit, pkg/drivers/k8scel/driver.go), a tenth of the API server's
// 10,000,000 per policy. cel-go's static estimate is printed too; it cannot bound an expression
// over a dyn object (object sizes are unknown to it), so the actual costs are what is asserted.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { admissionObject, loadFixtures } from '../../src/fixtures/corpus.ts';
import { celCosts } from '../harness/cel-cost.ts';
import { compiled, ruleSetsWithFixtures } from '../harness/compiled.ts';

const PER_CALL_LIMIT = 1_000_000;
const GATEKEEPER_BUDGET = 1_000_000;

/** 50 containers, each privileged, root, adding SYS_ADMIN and SYS_TIME, with a host port and a probe host. */
const widePod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'wide', namespace: 'team-a', labels: { 'alibabacloud.com/eci': 'true' } },
  spec: {
    hostPID: true,
    containers: Array.from({ length: 50 }, (_, i) => ({
      name: `c${i}`,
      image: 'nginx',
      ports: [{ containerPort: 80, hostPort: 8000 + i }],
      readinessProbe: { httpGet: { host: '10.0.0.1', port: 80 } },
      securityContext: { privileged: true, runAsUser: 0, capabilities: { add: ['SYS_ADMIN', 'SYS_TIME'] } },
    })),
  },
};

for (const ruleSet of ruleSetsWithFixtures()) {
  const c = await compiled(ruleSet);
  const objects = [
    ...loadFixtures(ruleSet)
      .filter((f) => !f.params)
      .flatMap((f) => {
        const a = admissionObject(f, c.ruleSet.inputRule.id);
        return 'reason' in a ? [] : [a.object];
      }),
    widePod,
  ];
  const costs = celCosts(c, objects);
  process.stdout.write(
    `\n[cel-cost] ${ruleSet} over ${objects.length} objects:\n${costs
      .map((p) => {
        const top = [...p.expressions].sort((a, b) => b.actualMax - a.actualMax)[0]!;
        const estimated = p.expressions.filter((e) => e.estimateMax <= PER_CALL_LIMIT);
        return `  ${p.policy}: ${p.expressions.length} expressions, ${estimated.length} estimated within the per-call limit (the others over dyn input the estimator cannot size); costliest ${top.name} ${top.actualMax}; largest evaluation ${p.totalMax}`;
      })
      .join('\n')}\n`,
  );

  test(`${ruleSet}: every CEL policy measured (ValidatingPolicies, VAPs, the Gatekeeper block per constraint)`, () => {
    const kinds = new Set(costs.map((p) => p.policy.split('/')[0]));
    assert.equal([...kinds].sort(), ['gatekeeper', 'kyverno-vpol', 'vap']);
    assert.ok(costs.every((p) => p.expressions.length > 3 && p.objects === objects.length));
  });

  for (const p of costs) {
    test(`${ruleSet} ${p.policy}: each expression within the per-call limit, each evaluation within Gatekeeper's budget`, () => {
      const over = p.expressions.filter((e) => e.actualMax > PER_CALL_LIMIT);
      assert.equal(over.map((e) => `${e.name} ${e.actualMax}`), []);
      assert.ok(p.totalMax <= GATEKEEPER_BUDGET, `largest evaluation ${p.totalMax}`);
      // The 50-container pod is the costliest object: the measure sees real work.
      assert.ok(p.totalMax > 1000, `largest evaluation only ${p.totalMax}`);
    });
  }
}

test.run();
