// The generated artefacts whose kinds are custom resources, applied to a real kube-apiserver as
// users apply them (issue 14): the CRDs come from the pinned modules' own YAML in the Go module
// cache (Kyverno v1.19.1's ClusterPolicy and ValidatingPolicy, Gatekeeper v3.23.1's
// ConstraintTemplate), then each ClusterPolicy, ValidatingPolicy and ConstraintTemplate goes
// through `kubectl apply --dry-run=server`, client-side `kubectl apply` and `kubectl apply
// --server-side`. kubectl validates strictly by default: a field the CRD's structural schema
// does not know is an error, not a silent prune. Each must be accepted with no warning (but
// Kyverno's own deprecation of kyverno.io/v1 ClusterPolicy, which its CRD declares).
//
// The Constraints are applied in gatekeeper.test.ts: their kind is a CRD that Gatekeeper's
// controller makes from the template.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compiled, ruleSetsWithFixtures } from '../harness/compiled.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';
import { GATEKEEPER_MODULE, KYVERNO_MODULE } from './pinned.ts';

const CRDS = [
  join(KYVERNO_MODULE, 'config/crds/kyverno/kyverno.io_clusterpolicies.yaml'),
  join(KYVERNO_MODULE, 'config/crds/policies.kyverno.io/policies.kyverno.io_validatingpolicies.yaml'),
  join(GATEKEEPER_MODULE, 'config/crd/bases/constrainttemplate-customresourcedefinition.yaml'),
];
/** The deprecation Kyverno's ClusterPolicy CRD declares for kyverno.io/v1 (see docs/output.md). */
const KNOWN_DEPRECATION = /^Warning: kyverno\.io\/v1 ClusterPolicy is deprecated/;

let cp!: ControlPlane;
test.before(async () => {
  cp = await startControlPlane();
});
const work = mkdtempSync(join(tmpdir(), 'eci-crd-'));

test('the CRDs from the pinned modules are created and established', async () => {
  // Created, not applied: Kyverno's CRDs are larger than client-side apply's annotation allows.
  const r = await cp.kubectl(['create', ...CRDS.flatMap((f) => ['-f', f])]);
  assert.is(r.code, 0, r.stderr);
  const w = await cp.kubectl(['wait', '--for=condition=Established', '--timeout=60s', 'crd/clusterpolicies.kyverno.io', 'crd/validatingpolicies.policies.kyverno.io', 'crd/constrainttemplates.templates.gatekeeper.sh']);
  assert.is(w.code, 0, w.stderr);
});

for (const ruleSet of ruleSetsWithFixtures()) {
  const c = await compiled(ruleSet);
  const files = [...c.files.keys()].filter((f) => /^(kyverno\/clusterpolicy|kyverno-vpol\/validatingpolicy-\w+|gatekeeper\/template)\.yaml$/.test(f)).sort();
  for (const file of files) {
    const path = join(work, `${ruleSet}-${file.replace(/\//g, '-')}`);
    writeFileSync(path, c.files.get(file) as string);
    for (const mode of [['--dry-run=server'], [], ['--server-side']]) {
      test(`${ruleSet} ${file}: kubectl apply ${mode.join(' ') || '(client-side)'} accepts it with no warning`, async () => {
        const r = await cp.kubectl(['apply', ...mode, '-f', path]);
        assert.is(r.code, 0, r.stderr);
        const warnings = r.stderr.split('\n').filter((l) => /warning/i.test(l) && !KNOWN_DEPRECATION.test(l));
        assert.equal(warnings, [], r.stderr);
      });
    }
  }
}

test.after(async () => {
  await cp?.stop();
  rmSync(work, { recursive: true, force: true });
});

test.run();
