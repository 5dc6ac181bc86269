// The generated ValidatingAdmissionPolicies in a real kube-apiserver (issue 14): applied as users
// apply them (client-side `kubectl apply`, `--server-side`, `--dry-run=server`) with no warning,
// then every fixture the Kyverno suites run (default parameters, an object that reaches
// admission) sent as a server-side dry-run create: deny rules must deny with the fixture's
// facts, warn rules must arrive as warnings with theirs. What the server rejects before
// admission, and what it normalises, is handled as admission.ts says.
// One rule set at a time: each one's policies are deleted, and gone, before the next.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lowerRuleSet as lowerVap, VAP_SEPARATOR } from '../../src/targets/vap/lower.ts';
import { compiled, ruleSetsWithFixtures } from '../harness/compiled.ts';
import { policyMessageFacts } from '../harness/engines.ts';
import type { Facts } from '../harness/facts.ts';
import { withContainerNames } from '../harness/matrix.ts';
import {
  admissionFixtures,
  admitWithoutPolicies,
  assertLeg,
  compareLeg,
  createNamespaces,
  dryRunCreate,
  refusal,
  untilDenied,
  untilNoLongerAnswering,
  type Normalised,
  type Outcome,
} from './admission.ts';
import { startControlPlane, type ControlPlane } from './control-plane.ts';

let cp!: ControlPlane;
test.before(async () => {
  cp = await startControlPlane();
});
const work = mkdtempSync(join(tmpdir(), 'eci-vap-'));

/** A policy of another rule set still answering (the API server drops a deleted one a moment later). */
class ForeignPolicy extends Error {}

/** One fixture as a server-side dry-run create: its facts (denial and warnings), or why the server rejected it before admission. */
async function admit(object: Record<string, unknown>, actionOf: (policy: string) => 'deny' | 'warn' | undefined): Promise<Outcome> {
  const r = await dryRunCreate(cp, object);
  const facts: Facts[] = [];
  const read = (text: string, verb: string) => {
    // "ValidatingAdmissionPolicy '<policy>' with binding '<binding>' denied request: <message>"
    const m = new RegExp(`ValidatingAdmissionPolicy '([^']+)' with binding '[^']+'${verb}`).exec(text);
    if (!m) return false;
    const action = actionOf(m[1]!);
    if (!action) throw new ForeignPolicy(text);
    facts.push(...withContainerNames(policyMessageFacts(text, VAP_SEPARATOR, action), object));
    return true;
  };
  // "Validation failed for ValidatingAdmissionPolicy '<policy>' with binding '<binding>': <message>"
  const serverWarnings = r.warnings.filter((w) => !read(w, ':'));
  if (r.status === 201) return { facts, serverWarnings };
  const message = refusal(r);
  if (read(message, ' denied request')) return { facts, serverWarnings };
  return { rejected: `${r.status}: ${message}` };
}

for (const ruleSet of ruleSetsWithFixtures()) {
  const c = await compiled(ruleSet);
  const files = [...c.files.keys()].filter((f) => f.startsWith('vap/') && f.endsWith('.yaml') && !f.includes('/tests/') && !f.endsWith('kustomization.yaml')).sort();
  const paths = files.map((f) => {
    const p = join(work, `${ruleSet}-${f.replace(/\//g, '-')}`);
    writeFileSync(p, c.files.get(f) as string);
    return p;
  });
  const fileArgs = paths.flatMap((p) => ['-f', p]);

  const policies = new Map(lowerVap(c.ruleSet, c.params).policies.map((p) => [p.name, p.action]));
  const { admitted, judge } = await admissionFixtures(c);
  let normalised: Normalised = new Map();
  const ours = (text: string) => /ValidatingAdmissionPolicy/.test(text);

  test(`${ruleSet}: each fixture as the API server admits it, with no policy in place`, async () => {
    await createNamespaces(cp, admitted);
    normalised = await admitWithoutPolicies(cp, admitted, ours);
    assert.ok([...normalised.values()].some((n) => 'object' in n));
  });

  for (const mode of [['--dry-run=server'], [], ['--server-side']]) {
    test(`${ruleSet}: kubectl apply ${mode.join(' ') || '(client-side)'} accepts vap/ with no warning`, async () => {
      const r = await cp.kubectl(['apply', ...mode, ...fileArgs]);
      assert.is(r.code, 0, r.stderr);
      assert.not.match(r.stderr, /warning/i, r.stderr);
    });
  }

  test(`${ruleSet}: every admitted fixture through the API server's admission chain`, async () => {
    // The policies take effect once the API server's informers have them: wait for a deny of a
    // fixture the server's own validation lets through.
    await untilDenied('the deny policy to take effect', admitted, normalised, (object) => admit(object, (p) => policies.get(p)));
    const report = await compareLeg('kube-apiserver vap', admitted, normalised, judge, (object) => admit(object, (p) => policies.get(p)));
    assertLeg(ruleSet, report, admitted);
  });

  test(`${ruleSet}: the policies are deleted, and stop answering`, async () => {
    const r = await cp.kubectl(['delete', '--wait=true', ...fileArgs]);
    assert.is(r.code, 0, r.stderr);
    await untilNoLongerAnswering(cp, admitted, normalised, ours);
  });
}

test.after(async () => {
  await cp?.stop();
  rmSync(work, { recursive: true, force: true });
});

test.run();
