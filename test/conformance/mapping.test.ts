// The mapping's guarantees, on synthetic cases: every case matched by exactly one entry, listed
// cases must be the entry's own, verdict-only entries, and Kyverno-style exclusions.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { decide, loadMapping, type Target } from './mapping.ts';
import { relevantFindings } from './run.ts';
import type { PeerCase } from './sources.ts';

const peerCase = (id: string, expected: 'pass' | 'fail', entry: Record<string, unknown>): PeerCase => ({
  source: 'gatekeeper',
  id,
  expected,
  resource: `gatekeeper/resources/${id}.yaml`,
  resourceKind: 'Pod',
  entry: { id, expected, ...entry },
});

function mappingOf(gatekeeper: string): ReturnType<typeof loadMapping> {
  const dir = mkdtempSync(join(tmpdir(), 'eci-mapping-'));
  try {
    const file = join(dir, 'mapping.yaml');
    writeFileSync(
      file,
      `pss_version: v1.37\nrule_sets:\n  pss_baseline: {spec: spec/pss-baseline.ts, params: spec/pss-baseline.params.yaml}\n` +
        `sources:\n  kyverno: []\n  pod-security-admission: []\n  gatekeeper:\n${gatekeeper}`,
    );
    return loadMapping(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const cases = [
  peerCase('a', 'fail', { suite_test: 'x' }),
  peerCase('b', 'pass', { suite_test: 'x' }),
  peerCase('c', 'fail', { suite_test: 'y', admission_operation: 'UPDATE' }),
];

test('every case is decided by exactly one entry; exceptions and verdict-only entries are not applicable, with reasons', () => {
  const m = mappingOf(`    - peer: X
      match: {suite_test: x}
      maps_to: {rule_set: pss_baseline, rules: [PSS-PRIVILEGED]}
      verdicts: {only: fail, reason: wider than PSS}
    - peer: Y
      match: {suite_test: y}
      not_applicable: update semantics
`);
  const { decisions, problems } = decide(m, cases);
  assert.equal(problems, []);
  assert.is(decisions.get('a')!.applicable, true);
  const b = decisions.get('b')!;
  assert.ok(!b.applicable && b.scope === 'verdict' && b.reason === 'wider than PSS');
  const c = decisions.get('c')!;
  assert.ok(!c.applicable && c.scope === 'peer' && c.reason === 'update semantics');
});

test('a case matched by no entry or by two, and a listed case that is not the entry’s, are errors', () => {
  const m = mappingOf(`    - peer: X
      match: {suite_test: x}
      maps_to: {rule_set: pss_baseline, rules: all}
      cases_not_applicable:
        - {case: c, reason: not mine}
    - peer: X again
      match: {suite_test: x, expected: pass}
      not_applicable: twice
`);
  const { problems } = decide(m, cases);
  assert.ok(problems.some((p) => p.startsWith('b: matched by 2 entries')), problems.join('\n'));
  assert.ok(problems.some((p) => p.startsWith('c: matched by no mapping entry')), problems.join('\n'));
  assert.ok(problems.some((p) => p.includes('listed case c is not one of its cases')), problems.join('\n'));
});

test('a malformed entry is refused with its place', () => {
  assert.throws(() => mappingOf(`    - peer: X\n      match: {suite_test: x}\n`), /gatekeeper\[0\] \(X\): give exactly one of maps_to and not_applicable/);
  assert.throws(() => mappingOf(`    - peer: X\n      match: {}\n      maps_to: {rule_set: nope, rules: all}\n`), /rule_set: nope is not in rule_sets/);
});

test('verdict: deny violations of the mapped rules, path filter, Kyverno exclusions by image and at pod level', () => {
  const pod = {
    kind: 'Pod',
    spec: { containers: [{ name: 'a', image: 'redis:7' }, { name: 'b', image: 'nginx' }] },
  };
  const v = [
    { rule: 'PSS-CAPABILITIES-RESTRICTED', action: 'deny', list: 'containers', container: 'a', path: 'spec.containers[0].securityContext.capabilities.drop' },
    { rule: 'PSS-CAPABILITIES-RESTRICTED', action: 'deny', list: 'containers', index: 1, path: 'spec.containers[1].securityContext.capabilities.add[0]' },
    { rule: 'PSS-SECCOMP-RESTRICTED', action: 'deny', path: 'spec.securityContext.seccompProfile.type' },
    { rule: 'PSS-X', action: 'warn', path: 'spec' },
  ];
  const target = (t: Partial<Target>): Target => ({ ruleSet: 'pss_restricted', rules: 'all', exclude: [], ...t });
  assert.is(relevantFindings(target({}), pod, v).length, 3);
  assert.is(relevantFindings(target({ rules: ['PSS-SECCOMP-RESTRICTED'] }), pod, v).length, 1);
  assert.is(relevantFindings(target({ paths: /capabilities\.drop$/ }), pod, v).length, 1);
  const excluded = relevantFindings(target({ exclude: [{ rules: ['PSS-CAPABILITIES-RESTRICTED'], images: ['redis*'] }, { rules: ['PSS-SECCOMP-RESTRICTED'] }] }), pod, v);
  assert.equal(excluded.map((f) => f.path), ['spec.containers[1].securityContext.capabilities.add[0]']);
});

test.run();
