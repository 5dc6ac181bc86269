// The bounded differential fuzzing campaign of `npm test`: a fixed seed (printed), 2,000 cases
// through OPA WASM and native opa, every 20th through Kyverno too; 0 disagreements.
// Longer campaigns: npm run fuzz -- --cases N --seed S [--kyverno-every K].

import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { PROJECT_ROOT } from '../../src/emit/engines.ts';
import { compiled } from '../harness/compiled.ts';
import { fuzz } from './differential.ts';

const seed = Number(process.env['FUZZ_SEED'] ?? 20261126);
const started = Date.now();
const report = await fuzz(await compiled('eci'), {
  cases: 2000,
  seed,
  kyvernoEvery: 20,
  findingsDir: join(PROJECT_ROOT, 'test', 'fuzz', 'findings'),
});
process.stdout.write(
  `\n[fuzz] seed ${seed}: ${report.cases} cases; evaluations ${JSON.stringify(report.evaluations)}; ` +
    `${report.disagreements.length} disagreements in ${Date.now() - started} ms\n[fuzz] reach (cases per rule and action): ${JSON.stringify(report.reach)}\n`,
);

test('the generator reaches every rule, with both actions where the rule has them', () => {
  for (const id of ['ECI-POD-001', 'ECI-POD-002', 'ECI-POD-003', 'ECI-POD-004', 'ECI-CTR-001', 'ECI-CTR-002', 'ECI-CTR-003', 'ECI-CTR-004', 'ECI-CTR-005', 'ECI-CTR-006', 'ECI-CTR-007', 'ECI-CTR-008']) {
    const hits = Object.entries(report.reach).filter(([k]) => k.startsWith(`${id} `));
    assert.ok(hits.length > 0, `no generated case violates ${id}`);
  }
});

test(`fuzz seed ${seed}: the engines agree on every generated case`, () => {
  assert.is(report.cases, 2000);
  const detail = report.disagreements
    .slice(0, 5)
    .map((d) => `case ${d.index} (${d.file}):\n${Object.entries(d.facts).map(([e, f]) => `  ${e}: ${f.join(' ')}`).join('\n')}`)
    .join('\n');
  assert.is(report.disagreements.length, 0, detail);
});

test.run();
