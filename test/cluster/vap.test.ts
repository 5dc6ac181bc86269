// The generated ValidatingAdmissionPolicies in a real kube-apiserver (issue 14): applied as users
// apply them (client-side `kubectl apply`, `--server-side`, `--dry-run=server`) with no warning,
// then every fixture the Kyverno suites run (default parameters, an object that reaches
// admission) sent as a server-side dry-run create: deny rules must deny with the fixture's
// facts, warn rules must arrive as warnings with theirs. Objects the API server rejects before
// admission (decoding and its own validation run first) are listed with the server's message:
// evidence, not skips.
//
// The API server also normalises an object before admission (decoding drops empty lists, the
// AppArmor annotation is copied into the field, defaults are set). Each fixture is therefore
// first created (dry run) with no policy, and OPA WASM judges the object the server returns:
// where that judgement equals the fixture's expectation, the VAPs must report the fixture's
// facts; where the server changed what the rules read, the fixture is listed as normalised (with
// the difference) and the VAPs must agree with OPA WASM on the normalised object.
// One rule set at a time: each one's policies are deleted, and gone, before the next.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadFixtures, type Fixture } from '../../src/fixtures/corpus.ts';
import { KIND_RESOURCES } from '../../src/targets/cel/lower.ts';
import { admittedFixtures } from '../../src/targets/kyverno/tests.ts';
import { VAP_SEPARATOR } from '../../src/targets/vap/lower.ts';
import { compiled, ruleSetsWithFixtures } from '../harness/compiled.ts';
import { policyMessageFacts } from '../harness/engines.ts';
import { compareFacts, formatDiff, type Facts } from '../harness/facts.ts';
import { wasmLeg, withContainerNames } from '../harness/matrix.ts';
import type { ExpectedViolation } from '../../src/fixtures/corpus.ts';
import { startControlPlane, type ApiResponse, type ControlPlane } from './control-plane.ts';

const cp: ControlPlane = await startControlPlane();
const work = mkdtempSync(join(tmpdir(), 'eci-vap-'));

/** The object created as a server-side dry run (`?dryRun=All`): the whole admission chain, nothing stored. */
function dryRunCreate(object: Record<string, unknown>): Promise<ApiResponse> {
  const kind = String(object['kind']);
  const r = KIND_RESOURCES[kind];
  if (!r) throw new Error(`no resource for kind ${kind}`);
  const namespace = String((object['metadata'] as { namespace?: unknown })['namespace'] ?? 'default');
  return cp.api('POST', `${r.group ? `/apis/${r.group}/v1` : '/api/v1'}/namespaces/${namespace}/${r.resource}?dryRun=All`, object);
}

/** A policy of another rule set still answering (the API server drops a deleted one a moment later). */
class ForeignPolicy extends Error {}

/** The facts from our policies, and the API server's own warnings (deprecations, odd quantities). */
type Outcome = { readonly facts: Facts[]; readonly serverWarnings: readonly string[] } | { readonly rejected: string };

/** One fixture as a server-side dry-run create: its facts (denial and warnings), or why the server rejected it before admission. */
async function admit(object: Record<string, unknown>, actionOf: (policy: string) => 'deny' | 'warn' | undefined): Promise<Outcome> {
  const r = await dryRunCreate(object);
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
  const message = String((r.body as { message?: unknown })?.message ?? JSON.stringify(r.body));
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

  const policies = new Map([...c.files.keys()].filter((f) => /^vap\/policy-\w+\.yaml$/.test(f)).map((f) => [`${ruleSet.replace(/_/g, '-')}-${/policy-(\w+)\.yaml$/.exec(f)![1]}`, /policy-(\w+)\.yaml$/.exec(f)![1] as 'deny' | 'warn']));
  const { admitted } = admittedFixtures(c.ruleSet, c.params, loadFixtures(ruleSet) as Fixture[]);
  /** Per fixture: the object the server would admit (no policy in place), or its rejection. */
  const normalised = new Map<string, { object: Record<string, unknown> } | { rejected: string }>();
  const wasm = await wasmLeg(c);

  test(`${ruleSet}: each fixture as the API server admits it, with no policy in place`, async () => {
    for (const ns of new Set(admitted.map((a) => String((JSON.parse(a.document).metadata ?? {}).namespace ?? 'default')))) {
      await cp.api('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    }
    for (const a of admitted) {
      const object = JSON.parse(a.document) as Record<string, unknown>;
      const r = await dryRunCreate(object);
      const message = String((r.body as { message?: unknown })?.message ?? '');
      assert.not.match(message, /ValidatingAdmissionPolicy/, 'a policy is still in place');
      normalised.set(a.name, r.status === 201 ? { object: r.body as Record<string, unknown> } : { rejected: `${r.status}: ${message}` });
    }
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
    const candidates = admitted.filter((a) => a.scoped && a.fixture.expect.some((e) => e.action === 'deny') && 'object' in normalised.get(a.name)!);
    const deadline = Date.now() + 60_000;
    for (let denied = false; !denied; ) {
      const o = await admit(JSON.parse(candidates[0]!.document), (p) => policies.get(p));
      denied = 'facts' in o && o.facts.some((f) => f.action === 'deny');
      if (denied) break;
      if (Date.now() > deadline) assert.unreachable('the deny policy never took effect');
      await new Promise((res) => setTimeout(res, 500));
    }
    const diffs: string[] = [];
    const rejected: string[] = [];
    const changed: string[] = [];
    const warned = new Set<string>();
    let judged = 0;
    for (const a of admitted) {
      const object = JSON.parse(a.document) as Record<string, unknown>;
      const before = normalised.get(a.name)!;
      const o = await admit(object, (p) => policies.get(p));
      if ('rejected' in o) {
        rejected.push(`  ${a.fixture.name}: ${o.rejected.slice(0, 300)}`);
        if ('object' in before) diffs.push(`${a.fixture.name}: rejected with the policies, admitted without: ${o.rejected}`);
        continue;
      }
      if (!('object' in before)) {
        diffs.push(`${a.fixture.name}: judged with the policies, rejected without: ${before.rejected}`);
        continue;
      }
      judged++;
      for (const w of o.serverWarnings) warned.add(w.replace(/\[[^\]]*\]/g, '[…]').slice(0, 160));
      // What OPA WASM says of the object the server admits: the fixture's expectation, unless the
      // server changed what the rules read.
      const [onServer] = wasm([{ ...a.fixture, input: before.object }]);
      const serverView = onServer!.map(({ value: _v, ...f }) => f) as ExpectedViolation[];
      const sameAsFixture = compareFacts(a.fixture.expect, serverView, { ignore: ['value'] });
      let expected: readonly ExpectedViolation[] = a.fixture.expect;
      if (sameAsFixture.missing.length || sameAsFixture.unexpected.length) {
        changed.push(formatDiff(`${a.fixture.name} (OPA WASM on the object as the server admits it, against the fixture)`, 'normalised', sameAsFixture));
        expected = serverView;
      }
      const diff = compareFacts(expected, o.facts, { ignore: ['value'] });
      if (diff.missing.length || diff.unexpected.length) diffs.push(formatDiff(a.fixture.name, 'kube-apiserver vap', diff));
    }
    process.stdout.write(
      `\n[cluster] ${ruleSet}: ${admitted.length} fixtures through kube-apiserver, ${judged} judged by the VAPs (${judged - changed.length} against the fixture, ${changed.length} normalised by the server); ` +
        `rejected before admission: ${rejected.length}\n${rejected.join('\n')}\n[cluster] ${ruleSet}: normalised by the server:\n${changed.join('\n')}\n` +
        `[cluster] ${ruleSet}: the API server's own warnings: ${[...warned].join(' | ')}\n`,
    );
    assert.equal(diffs, [], diffs.join('\n'));
  });

  test(`${ruleSet}: the policies are deleted, and stop answering`, async () => {
    const r = await cp.kubectl(['delete', '--wait=true', ...fileArgs]);
    assert.is(r.code, 0, r.stderr);
    const probe = admitted.find((a) => a.scoped && a.fixture.expect.some((e) => e.action === 'deny') && 'object' in normalised.get(a.name)!)!;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const res = await dryRunCreate(JSON.parse(probe.document) as Record<string, unknown>);
      if (res.status === 201 && !res.warnings.some((w) => w.includes('ValidatingAdmissionPolicy'))) break;
      if (Date.now() > deadline) assert.unreachable('the deleted policies still answer');
      await new Promise((res) => setTimeout(res, 500));
    }
  });
}

test.after(async () => {
  await cp.stop();
  rmSync(work, { recursive: true, force: true });
});

test.run();
