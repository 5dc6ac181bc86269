// Each leg of the matrix must catch a broken policy: copies of the generated Rego, ClusterPolicy,
// ValidatingPolicies, ValidatingAdmissionPolicies and Gatekeeper template with NET_ADMIN dropped from the capability
// allowlist are run over the ECI-CTR-001 fixtures, and every leg must then disagree with a
// fixture that adds NET_ADMIN (the catalogue allows it).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadFixtures } from '../../src/fixtures/corpus.ts';
import { compiled } from '../harness/compiled.ts';
import { compareFacts } from '../harness/facts.ts';
import { ALL_LEGS, compareOptions, runMatrix, type EngineName } from '../harness/matrix.ts';

const LEGS = ALL_LEGS;
const c = await compiled('eci');
const fixtures = loadFixtures('eci').filter((f) => f.name.startsWith('eci/ECI-CTR-001/'));
const drop = (literal: string) => (text: string) => {
  const mutated = text.replaceAll(literal, '');
  if (mutated === text) throw new Error(`the mutation did not change the artefact: ${literal} not found`);
  return mutated;
};
// In Rego the set element is `"NET_ADMIN", `; in the CEL (single-quoted literals) it is `'NET_ADMIN', `.
// The ValidatingPolicies and ValidatingAdmissionPolicies are one per action; the allowlist is
// in the deny one only.
const changed = { vpol: [] as boolean[], vap: [] as boolean[] };
const dropIn = (artefact: keyof typeof changed) => (text: string) => {
  const mutated = text.replaceAll("'NET_ADMIN', ", '');
  changed[artefact].push(mutated !== text);
  return mutated;
};
// The Gatekeeper template holds the allowlist twice: in its CEL block and in its Rego block
// (each gator leg runs one of them).
const mutation = {
  rego: drop('"NET_ADMIN", '),
  kyverno: drop("'NET_ADMIN', "),
  vpol: dropIn('vpol'),
  vap: dropIn('vap'),
  gatekeeper: (text: string) => drop('"NET_ADMIN", ')(drop("'NET_ADMIN', ")(text)),
};

const intact = await runMatrix(c, fixtures, LEGS);
const broken = await runMatrix(c, fixtures, LEGS, mutation);

const disagreements = (rows: typeof intact, leg: EngineName) =>
  rows.filter((r) => {
    const actual = r.results[leg];
    if (!actual) return false;
    const d = compareFacts(r.fixture.expect, actual, compareOptions(leg));
    return d.missing.length + d.unexpected.length > 0;
  }).length;

test('the mutation changed a ValidatingPolicy and a ValidatingAdmissionPolicy', () => {
  assert.ok(changed.vpol.includes(true));
  assert.ok(changed.vap.includes(true));
});

for (const leg of LEGS) {
  test(`${leg}: the intact policy agrees with every ECI-CTR-001 fixture`, () => {
    assert.ok(fixtures.length >= 5);
    assert.is(disagreements(intact, leg), 0);
  });
  test(`${leg}: the policy without NET_ADMIN in its allowlist is caught`, () => {
    assert.ok(disagreements(broken, leg) > 0, `${leg} did not notice the broken allowlist`);
  });
}

test.run();
