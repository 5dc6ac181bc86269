// Pods with many offending containers, through every engine (issue 5, input limits). By
// ECI-RULES.md, SYS_TIME is not on ECI-CTR-001's allowlist: each container is one deny.
// - 50 containers: every engine reports the 50 facts (the ClusterPolicy, the ValidatingPolicy
//   and the ValidatingAdmissionPolicy list 10 per rule and count the rest, because Kubernetes
//   caps a messageExpression at 5 KiB and would otherwise drop them all).
// - 5,000 containers: OPA WASM and opa report all 5,000. Kyverno's CEL runtime cost limit stops
//   the expression; the ClusterPolicy rule then fails, which blocks admission under Enforce, and
//   the ValidatingPolicy and the ValidatingAdmissionPolicy error, which failurePolicy Fail and
//   their Deny action make a rejection (the README's verification section says so per engine).
//   The test pins those verdicts and their reason.
// - Gatekeeper: the template's Rego block reports every fact; its CEL block's message lists the
//   facts that fit within 5 KiB and counts the rest, as the VAP's does.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'uvu';
import { parse } from 'yaml';
import * as assert from 'uvu/assert';
import type { ExpectedViolation, Fixture } from '../../src/fixtures/corpus.ts';
import { MESSAGE_MAX_FACTS } from '../../src/targets/kyverno/lower.ts';
import { VPOL_MAX_FACTS } from '../../src/targets/kyverno-vpol/lower.ts';
import { compiled } from '../harness/compiled.ts';
import { engine } from '../harness/engines.ts';
import { runMatrix } from '../harness/matrix.ts';
import { compareFacts, OMITTED_RULE } from '../harness/facts.ts';

const c = await compiled('eci');

function widePod(n: number): Fixture {
  return {
    file: '(generated)',
    name: `pod with ${n} containers adding SYS_TIME`,
    description: 'generated',
    input: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `wide-${n}`, namespace: 'team-a', labels: { 'alibabacloud.com/eci': 'true' } },
      spec: { containers: Array.from({ length: n }, (_, i) => ({ name: `c${i}`, image: 'nginx', securityContext: { capabilities: { add: ['SYS_TIME'] } } })) },
    },
    expect: [],
  };
}

const expected = (n: number) =>
  Array.from({ length: n }, (_, i) => `ECI-CTR-001 deny containers c${i} spec.containers[${i}].securityContext.capabilities.add[0]`).sort();

test('50 offending containers: OPA WASM and opa report all 50; Kyverno lists 10 of them and counts the other 40', async () => {
  const [row] = await runMatrix(c, [widePod(50)], ['opa-wasm', 'opa', 'kyverno']);
  const show = (fs: readonly { rule: string; action: string; list?: string; container?: string; path?: string }[]) =>
    fs.map((f) => `${f.rule} ${f.action} ${f.list ?? '-'} ${f.container ?? '-'} ${f.path}`).sort();
  assert.equal(show(row!.results['opa-wasm']!), expected(50));
  assert.equal(show(row!.results['opa']!), expected(50));
  const k = show(row!.results['kyverno']!);
  assert.is(k.length, MESSAGE_MAX_FACTS + 1);
  assert.ok(k.includes(`ECI-CTR-001 deny - - (${50 - MESSAGE_MAX_FACTS} more)`), k.join('\n'));
  const listed = k.filter((f) => !f.includes('more)'));
  assert.ok(listed.every((f) => expected(50).includes(f)), listed.join('\n'));
});

for (const leg of ['kyverno-vpol', 'vap', 'gator-cel'] as const) {
  test(`50 offending containers: ${leg} lists 10 of them and counts the other 40`, async () => {
    const [row] = await runMatrix(c, [widePod(50)], [leg]);
    const k = row!.results[leg]!.map((f) => `${f.rule} ${f.action} ${f.list ?? '-'} ${f.container ?? '-'} ${f.path}`).sort();
    assert.is(k.length, VPOL_MAX_FACTS + 1);
    assert.ok(k.includes(`ECI-CTR-001 deny - - (${50 - VPOL_MAX_FACTS} more)`), k.join('\n'));
    const listed = k.filter((f) => !f.includes('more)'));
    assert.ok(listed.every((f) => expected(50).includes(f)), listed.join('\n'));
  });
}

/** `kyverno apply` of generated files (and parameter resources) on the 5,000-container pod: the results that did not pass. */
async function applyToWidePod(files: readonly string[], parameterFiles: readonly string[] = []): Promise<{ policy: string; result: string; message?: string }[]> {
  const work = mkdtempSync(join(tmpdir(), 'eci-wide-'));
  try {
    const write = (f: string, i: number) => {
      const path = join(work, `${i}-${basename(f)}`);
      writeFileSync(path, String(c.files.get(f)));
      return path;
    };
    const policies = files.map(write);
    const params = parameterFiles.map((f, i) => write(f, files.length + i)).flatMap((p) => ['--parameter-resource', p]);
    writeFileSync(join(work, 'pod.json'), JSON.stringify(widePod(5000).input));
    const args = ['apply', ...policies, ...params, '--resource', join(work, 'pod.json'), '--policy-report', '--output-format', 'json', '--remove-color'];
    const stdout = await new Promise<string>((done) => execFile(engine('kyverno'), args, { maxBuffer: 64 << 20 }, (_e, out) => done(out)));
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { results: { policy: string; result: string; message?: string }[] };
    return report.results.filter((r) => r.result !== 'pass' && r.result !== 'skip');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

test('5,000 offending containers: the ValidatingPolicy errors on its cost limit, and its failurePolicy is Fail', async () => {
  const files = [...c.files.keys()].filter((f) => f.startsWith('kyverno-vpol/validatingpolicy-'));
  assert.equal(files, ['kyverno-vpol/validatingpolicy-deny.yaml', 'kyverno-vpol/validatingpolicy-warn.yaml']);
  const failed = await applyToWidePod(files);
  assert.equal(failed.map((r) => [r.policy, r.result]), [['eci-deny', 'error']]);
  assert.match(failed[0]!.message ?? '', /cost limit exceeded/);
  const deny = parse(String(c.files.get(files[0]!))) as { spec: { failurePolicy: string; validationActions: string[] } };
  assert.equal([deny.spec.failurePolicy, deny.spec.validationActions], ['Fail', ['Deny']], 'an error in the deny policy rejects the request');
});

test('5,000 offending containers: the ValidatingAdmissionPolicy errors on its cost limit; its failurePolicy is Fail and its binding Deny', async () => {
  const files = ['vap/policy-deny.yaml', 'vap/binding-deny.yaml', 'vap/policy-warn.yaml', 'vap/binding-warn.yaml'];
  const failed = await applyToWidePod(files, ['vap/params.yaml']);
  assert.equal(failed.map((r) => [r.policy, r.result]), [['eci-deny', 'error']]);
  assert.match(failed[0]!.message ?? '', /cost limit exceeded/);
  const policy = parse(String(c.files.get(files[0]!))) as { spec: { failurePolicy: string } };
  const binding = parse(String(c.files.get(files[1]!))) as { spec: { validationActions: string[] } };
  assert.equal([policy.spec.failurePolicy, binding.spec.validationActions], ['Fail', ['Deny']], 'an error in the deny policy rejects the request');
});

test("50 offending containers: the Gatekeeper template's Rego block reports all 50", async () => {
  const [row] = await runMatrix(c, [widePod(50)], ['gator-rego']);
  const k = row!.results['gator-rego']!.map((f) => `${f.rule} ${f.action} ${f.list ?? '-'} ${f.container ?? '-'} ${f.path}`).sort();
  assert.equal(k, expected(50));
});

// Kubernetes' CEL library (Gatekeeper's too) replaces a messageExpression result over 5 KiB by
// `failed expression: …`, dropping every fact. PSS Restricted on ten containers that each break
// four of its rules has over 40 facts: the Gatekeeper CEL block lists what fits in 4,000
// characters and counts the rest, as the ValidatingAdmissionPolicy does.
test("PSS Restricted, 10 containers breaking 4 rules each: Gatekeeper's CEL block lists the facts that fit in its message and counts the rest", async () => {
  const r = await compiled('pss_restricted');
  const pod: Fixture = {
    file: '(generated)',
    name: 'pss_restricted: 10 privileged root containers adding SYS_ADMIN',
    description: 'generated',
    input: {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'wide', namespace: 'team-a' },
      spec: { containers: Array.from({ length: 10 }, (_, i) => ({ name: `c${i}`, image: 'nginx', securityContext: { privileged: true, runAsUser: 0, capabilities: { add: ['SYS_ADMIN'] } } })) },
    },
    expect: [],
  };
  const [row] = await runMatrix(r, [pod], ['opa-wasm', 'gator-cel', 'gator-rego']);
  const all = row!.results['opa-wasm']!;
  assert.ok(all.length >= 40, `${all.length} facts`);
  const cel = row!.results['gator-cel']!;
  const omitted = cel.filter((f) => f.rule === OMITTED_RULE);
  assert.is(omitted.length, 1, 'the message counts the facts it has no room for');
  // Listed: facts of the Rego's (at most 10 per rule, then `<RULE-ID> (<n> more)`), no error.
  const key = (f: { rule: string; action: string; path?: string }) => `${f.rule} ${f.action} ${f.path}`;
  const known = new Set(all.map(key));
  const listed = cel.filter((f) => f.rule !== OMITTED_RULE && !/^\(\d+ more\)$/.test(f.path ?? ''));
  assert.ok(listed.length >= 10, `${listed.length} facts listed`);
  assert.equal(listed.filter((f) => !known.has(key(f))), []);
  assert.equal(compareFacts(all as ExpectedViolation[], row!.results['gator-rego']!), { missing: [], unexpected: [] });
});

test('5,000 offending containers: OPA WASM and opa report all 5,000; Kyverno fails the Enforce rule on its cost limit', async () => {
  const [row] = await runMatrix(c, [widePod(5000)], ['opa-wasm', 'opa']);
  assert.is(row!.results['opa-wasm']!.length, 5000);
  assert.is(row!.results['opa']!.length, 5000);
  assert.ok(row!.results['opa-wasm']!.every((f) => f.rule === 'ECI-CTR-001' && f.action === 'deny'));

  // The matrix's Kyverno leg requires facts; here the report is read directly.
  const work = mkdtempSync(join(tmpdir(), 'eci-wide-'));
  try {
    const policy = String(c.files.get('kyverno/clusterpolicy.yaml'));
    writeFileSync(join(work, 'policy.yaml'), policy);
    writeFileSync(join(work, 'pod.json'), JSON.stringify(widePod(5000).input));
    const stdout = await new Promise<string>((done) =>
      execFile(engine('kyverno'), ['apply', join(work, 'policy.yaml'), '--resource', join(work, 'pod.json'), '--policy-report', '--output-format', 'json', '--remove-color'], { maxBuffer: 64 << 20 }, (_e, out) => done(out)),
    );
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { results: { rule: string; result: string; message?: string }[] };
    const failed = report.results.filter((r) => r.result !== 'pass' && r.result !== 'skip');
    assert.equal(failed.map((r) => [r.rule, r.result]), [['eci-ctr-001', 'fail']]);
    assert.match(failed[0]!.message ?? '', /cost limit exceeded/);
    const rules = (parse(policy) as { spec: { rules: { name: string; validate: { failureAction: string } }[] } }).spec.rules;
    assert.is(rules.find((r) => r.name === 'eci-ctr-001')?.validate.failureAction, 'Enforce', 'the rule that fails is an Enforce rule: admission is blocked');
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
});

test.run();
