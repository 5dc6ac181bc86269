// The fuzzer shrinks what it finds: the real policy's WASM bundle against a copy built without
// NET_ADMIN in the capability allowlist (the mutation of test/eval/mutation.test.ts), 200
// generated cases with a fixed seed. Every disagreement must be written out shrunk to a Pod
// with one container whose only capability is NET_ADMIN, with its seed and original.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDocument } from 'yaml';
import { loadFixture } from '../../src/fixtures/corpus.ts';
import { compiled } from '../harness/compiled.ts';
import { fuzzCase } from './arbitraries.ts';
import { fuzz, type FuzzLeg } from './differential.ts';

const SEED = 20261126;
const CASES = 200;
const drop = (text: string) => {
  const mutated = text.replaceAll('"NET_ADMIN", ', '');
  if (mutated === text) throw new Error('the mutation did not change the Rego: "NET_ADMIN", not found');
  return mutated;
};
const legs: FuzzLeg[] = [
  { name: 'opa-wasm', engine: 'opa-wasm' },
  { name: 'opa-wasm without NET_ADMIN', engine: 'opa-wasm', mutation: { rego: drop } },
];

const dir = mkdtempSync(join(tmpdir(), 'eci-findings-'));
const started = Date.now();
const report = await fuzz(await compiled('eci'), {
  cases: CASES,
  seed: SEED,
  legs,
  findingsDir: dir,
  shrink: { evaluations: 500, ms: 30_000, cases: CASES },
  source: 'test/fuzz/shrink.test.ts',
});
const findings = report.disagreements.map((d) => {
  const text = readFileSync(d.file, 'utf8');
  const doc = parseDocument(text, { uniqueKeys: true });
  let loadError = '';
  try {
    loadFixture(d.file, dir);
  } catch (e) {
    loadError = (e as Error).message;
  }
  return { d, text, errors: doc.errors, yaml: doc.toJS() as Record<string, any>, loadError };
});
rmSync(dir, { recursive: true, force: true });
const steps = report.disagreements.map((d) => d.shrink.steps);
process.stdout.write(
  `\n[shrink] seed ${SEED}: ${report.disagreements.length} of ${report.cases} cases disagree; shrink steps ${Math.min(...steps)}..${Math.max(...steps)}, ` +
    `evaluations ${report.disagreements.reduce((n, d) => n + d.shrink.evaluations, 0)}, ${Date.now() - started} ms\n`,
);

const json = (x: unknown) => JSON.stringify(x);

test('the broken allowlist is found', () => {
  assert.is(report.cases, CASES);
  assert.ok(report.disagreements.length > 0, 'no disagreement between the policy and its copy without NET_ADMIN');
});

test('each finding is YAML with its seed, case index and the replay path of the shrunk case', () => {
  for (const { d, errors, yaml } of findings) {
    assert.equal(errors, [], d.file);
    assert.is(yaml['finding'].seed, SEED);
    assert.is(yaml['finding'].case, d.index);
    assert.ok(yaml['finding'].path.startsWith(`${d.index}:`), yaml['finding'].path);
    // fast-check replays the shrunk case from the seed and path alone.
    const [replayed] = fc.sample(fuzzCase, { seed: yaml['finding'].seed, path: yaml['finding'].path, numRuns: 1 });
    assert.is(json(replayed?.input), json(d.input), `case ${d.index}`);
    assert.is(yaml['finding'].shrink.steps, d.shrink.steps);
    assert.ok(d.shrink.steps > 0 && d.shrink.evaluations >= d.shrink.steps, json(d.shrink));
    assert.is(d.shrink.stopped, undefined, `case ${d.index}: ${d.shrink.stopped}`);
    assert.is(yaml['source'], 'test/fuzz/shrink.test.ts');
  }
});

const LISTS = ['containers', 'initContainers', 'ephemeralContainers'];

/** The shrunk Pod's one container with a securityContext: where the trigger must be. */
function carrier(input: any): { list: string; index: number; ctr: any } {
  assert.is(input.kind, 'Pod');
  assert.equal(Object.keys(input.spec).filter((k) => !LISTS.includes(k)), [], `pod-level fields left: ${json(input.spec)}`);
  const all = LISTS.flatMap((list) => ((input.spec[list] ?? []) as any[]).map((ctr, index) => ({ list, index, ctr })));
  const carriers = all.filter(({ ctr }) => 'securityContext' in ctr);
  assert.is(carriers.length, 1, `containers with a securityContext: ${json(input.spec)}`);
  // At most one other container, bare: the entry `containers` needs when the trigger is in an
  // init or ephemeral container, or a second entry after it in `containers`, which fast-check
  // 4.10's array shrinker cannot remove (with minLength 1 it drops items from the front only:
  // [7, 3] shrinks to [7, 0], never [7]).
  for (const { ctr } of all.filter((x) => x !== carriers[0])) assert.equal(Object.keys(ctr).sort(), ['image', 'name']);
  assert.ok(all.length <= 2, json(input.spec));
  return carriers[0]!;
}

test('the written input is the shrunk case: a Pod, one container carrying the trigger, only NET_ADMIN added', () => {
  for (const { d, yaml } of findings) {
    assert.is(json(yaml['input']), json(d.input), `case ${d.index}`);
    const { ctr } = carrier(yaml['input']);
    assert.equal(ctr.securityContext, { capabilities: { add: [ctr.securityContext.capabilities.add[0]] } }, `case ${d.index}: ${json(ctr)}`);
    assert.is(String(ctr.securityContext.capabilities.add[0]).toUpperCase(), 'NET_ADMIN', `case ${d.index}`);
  }
  // Where the trigger was in `containers` and alone there, all the way to a one-container Pod.
  const single = findings.filter(({ d }) => json(Object.keys((d.input as any).spec)) === '["containers"]' && (d.input as any).spec.containers.length === 1);
  assert.ok(single.length > 0, 'no finding shrank to a Pod with a single container');
});

test('the shrunk case is strictly smaller than the original, which is kept', () => {
  for (const { d, yaml } of findings) {
    assert.is(json(yaml['finding'].original.input), json(d.original), `case ${d.index}`);
    assert.ok(json(d.input).length < json(d.original).length, `case ${d.index}: ${json(d.input).length} >= ${json(d.original).length}`);
  }
});

test("each engine's facts are those of the shrunk case: only the mutated copy denies, at the NET_ADMIN entry", () => {
  for (const { d, yaml } of findings) {
    const engines = yaml['finding'].engines;
    const { list, index, ctr } = carrier(yaml['input']);
    assert.equal(engines['opa-wasm'], [], `case ${d.index}`);
    assert.equal(
      engines['opa-wasm without NET_ADMIN'],
      [{ rule: 'ECI-CTR-001', action: 'deny', list, container: ctr.name, path: `spec.${list}[${index}].securityContext.capabilities.add[0]`, value: ctr.securityContext.capabilities.add[0] }],
      `case ${d.index}`,
    );
    assert.equal(yaml['finding'].disagree, ['opa-wasm without NET_ADMIN']);
  }
});

test('a finding is marked for triage and is not a loadable fixture', () => {
  for (const { d, text, yaml, loadError } of findings) {
    assert.ok(text.startsWith('# FINDING TO TRIAGE'), d.file);
    assert.is(yaml['expect'], null);
    assert.match(loadError, /expect must be a list; unknown key finding|unknown key finding.*expect must be a list/, d.file);
  }
});

test.run();
