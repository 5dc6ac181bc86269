// The bounded differential fuzzing campaigns of `npm test`: a fixed seed (printed), generated
// cases through OPA WASM, native opa and conftest, every 20th through the Kyverno CLI too
// (ClusterPolicy, ValidatingPolicy, ValidatingAdmissionPolicy), every 5th through gator (the
// Gatekeeper template's CEL and Rego blocks); 0 disagreements. One campaign per rule set with a generator
// (test/fuzz/arbitraries.ts for ECI, arbitraries-pss.ts for the Pod Security Standards sets).
// Longer campaigns:
// npm run fuzz -- --rule-set R --cases N --seed S [--kyverno-every K].

import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PROJECT_ROOT } from '../../src/emit/engines.ts';
import { compiled } from '../harness/compiled.ts';
import { fuzz } from './differential.ts';

const seed = Number(process.env['FUZZ_SEED'] ?? 20261126);
const CAMPAIGNS = [
  { ruleSet: 'eci', cases: 2000 },
  { ruleSet: 'pss_restricted', cases: 2000 },
  // Baseline's rules are Restricted's first twelve, compiled into their own artefacts.
  { ruleSet: 'pss_baseline', cases: 1000 },
];

for (const { ruleSet, cases } of CAMPAIGNS) {
  const c = await compiled(ruleSet);
  const started = Date.now();
  const report = await fuzz(c, { cases, seed, kyvernoEvery: 20, findingsDir: join(PROJECT_ROOT, 'test', 'fuzz', 'findings') });
  process.stdout.write(
    `\n[fuzz] ${ruleSet} seed ${seed}: ${report.cases} cases; evaluations ${JSON.stringify(report.evaluations)}; ` +
      `${report.disagreements.length} disagreements in ${Date.now() - started} ms\n[fuzz] reach (cases per rule and action): ${JSON.stringify(report.reach)}\n`,
  );

  test(`${ruleSet}: the generator reaches every rule, and pods no rule objects to`, () => {
    for (const { id } of c.ruleSet.rules) {
      const hits = Object.keys(report.reach).filter((k) => k.startsWith(`${id} `));
      assert.ok(hits.length > 0, `no generated case violates ${id}`);
    }
    assert.ok((report.reach['(allowed)'] ?? 0) >= cases / 20, `only ${report.reach['(allowed)'] ?? 0} allowed cases`);
  });

  test(`${ruleSet} fuzz seed ${seed}: the engines agree on every generated case`, () => {
    assert.is(report.cases, cases);
    const detail = report.disagreements
      .slice(0, 5)
      .map((d) => `case ${d.index} (${d.file}):\n${Object.entries(d.facts).map(([e, f]) => `  ${e}: ${f.join(' ')}`).join('\n')}`)
      .join('\n');
    assert.is(report.disagreements.length, 0, detail);
  });
}

test.run();
