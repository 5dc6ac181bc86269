// The engines' own test tools on the generated suites: `opa test` on rego/, `kyverno test`
// on kyverno/tests/, kyverno-vpol/tests/ and vap/tests/, and `gator verify` on gatekeeper/tests/
// (the template's CEL block, then its Rego block), over a fresh compile of spec/ (the same bytes as generated/, which CI
// checks separately).

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compiled, ruleSetsWithFixtures } from '../harness/compiled.ts';
import { engine } from '../harness/engines.ts';
import { loadFixtures } from '../../src/fixtures/corpus.ts';

const run = promisify(execFile);
const outs: string[] = [];
// Every rule set with fixtures (RULE_SETS=<a,b> narrows them).
for (const ruleSet of ruleSetsWithFixtures()) {
  const c = await compiled(ruleSet);
  const out = mkdtempSync(join(tmpdir(), 'eci-native-'));
  outs.push(out);
  for (const [rel, content] of c.files) {
    mkdirSync(dirname(join(out, rel)), { recursive: true });
    writeFileSync(join(out, rel), content);
  }

  test(`${ruleSet}: opa test passes every fixture of the corpus`, async () => {
    const { stdout } = await run(engine('opa'), ['test', join(out, 'rego')], { maxBuffer: 64 * 1024 * 1024 });
    const fixtures = loadFixtures(ruleSet).length;
    assert.match(stdout, new RegExp(`^PASS: ${fixtures}/${fixtures}$`, 'm'), stdout.slice(-2000));
  });

  /** `kyverno test` on a generated suite: 0 failed, and at least `min` results checked. */
  const kyvernoTest = async (dir: string, min: number) => {
    let stdout = '';
    let status = 0;
    try {
      ({ stdout } = await run(engine('kyverno'), ['test', join(out, dir, 'tests'), '--remove-color', '--fail-only'], {
        maxBuffer: 256 * 1024 * 1024,
      }));
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; code?: number };
      stdout = `${err.stdout ?? ''}${err.stderr ?? ''}`;
      status = err.code ?? 1;
    }
    // With --fail-only the CLI summarises as "Test Summary: F out of N tests failed".
    const summary = /Test Summary: (\d+) out of (\d+) tests failed/.exec(stdout);
    assert.ok(summary, `no summary from kyverno test:\n${stdout.slice(-3000)}`);
    assert.is(Number(summary[1]), 0, stdout.slice(-3000));
    assert.ok(Number(summary[2]) > min, `only ${summary[2]} results checked`);
    assert.is(status, 0);
  };

  test(`${ruleSet}: kyverno test passes every expected rule result of the ClusterPolicy`, async () => {
    // Every rule of the policy gives a result for every fixture of a matched kind.
    await kyvernoTest('kyverno', loadFixtures(ruleSet).length * c.ruleSet.rules.length);
  });

  test(`${ruleSet}: kyverno test passes every expected result of the ValidatingPolicies`, async () => {
    // Each policy gives a result for every fixture in scope that reaches admission.
    await kyvernoTest('kyverno-vpol', loadFixtures(ruleSet).length / 2);
  });

  test(`${ruleSet}: kyverno test passes every expected result of the ValidatingAdmissionPolicies`, async () => {
    await kyvernoTest('vap', loadFixtures(ruleSet).length / 2);
  });

  /** `gator verify` on the Suite: every case of every test passes, and there are cases. */
  const gatorVerify = async (rego: boolean) => {
    let stdout = '';
    let status = 0;
    try {
      const child = run(engine('gator'), ['verify', join(out, 'gatekeeper', 'tests'), '--verbose', ...(rego ? ['--enable-k8s-native-validation=false'] : [])], {
        maxBuffer: 256 * 1024 * 1024,
      });
      child.child.stdin?.end();
      ({ stdout } = await child);
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string; code?: number };
      stdout = `${err.stdout ?? ''}${err.stderr ?? ''}`;
      status = err.code ?? 1;
    }
    const passed = (stdout.match(/^\s*--- PASS: \S+/gm) ?? []).length;
    const failed = stdout.match(/^\s*--- FAIL: .*$/gm) ?? [];
    assert.equal(failed, [], stdout.slice(-3000));
    assert.is(status, 0, stdout.slice(-3000));
    // Every fixture that reaches admission is a case of each constraint's test.
    assert.ok(passed > loadFixtures(ruleSet).length / 2, `only ${passed} cases passed:\n${stdout.slice(-2000)}`);
  };

  test(`${ruleSet}: gator verify passes every case on the template's CEL block`, () => gatorVerify(false));
  test(`${ruleSet}: gator verify passes every case on the template's Rego block`, () => gatorVerify(true));

  test(`${ruleSet}: the ClusterPolicy loads with no warning but kyverno.io/v1's deprecation`, async () => {
    const pod = join(out, 'pod.json');
    // A pod every rule set admits (`kyverno apply` exits 1 on a failed rule): PSS Restricted's settings.
    const container = { name: 'c', image: 'i', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } };
    const securityContext = { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
    writeFileSync(pod, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'n' }, spec: { securityContext, containers: [container] } }));
    const { stdout, stderr } = await run(engine('kyverno'), ['apply', join(out, 'kyverno', 'clusterpolicy.yaml'), '--resource', pod, '--remove-color']);
    const warnings = `${stdout}\n${stderr}`.split('\n').filter((l) => /^\s*(warning|error)\b/i.test(l) || /invalid/i.test(l));
    const others = warnings.filter((l) => !/kyverno\.io\/v1 ClusterPolicy is deprecated/.test(l));
    assert.equal(others, [], others.join('\n'));
    assert.match(stdout, /Applying \d+ policy rule\(s\) to 1 resource/);
  });
}

test.after(() => {
  for (const out of outs) rmSync(out, { recursive: true, force: true });
});
test.run();
