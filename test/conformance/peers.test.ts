// The peer-conformance suite: our PSS rule sets against the verdicts of Kyverno's policies,
// gatekeeper-library and the Pod Security Admission fixtures (../shared/peer-fixtures), as
// mapped in mapping.yaml. OPA WASM and opa judge every applicable case, Kyverno the budget
// (one case per peer rule, PSA check and verdict; `npm run conformance -- --kyverno all` for all).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatReport } from './report.ts';
import { runConformance } from './run.ts';
import { ADMISSION_LEGS } from '../harness/matrix.ts';

const report = await runConformance({ kyverno: 'budget' });
process.stdout.write(`\n[conformance]\n${formatReport(report)}\n`);

for (const s of report.sources) {
  test(`${s.source}: cases are compared, and every applicable case agrees with the peer`, () => {
    assert.ok(s.applicable.length > 0, `no applicable ${s.source} case`);
    assert.is(s.applicable.length + s.notApplicable.length, s.total);
    if (s.disagreed.length) assert.unreachable(`${s.disagreed.length} disagreements:\n${s.disagreed.map((r) => `  ${r.case.id}: peer ${r.case.expected}, ours ${JSON.stringify(r.verdicts)}`).join('\n')}`);
  });
}

test('each documented peer deviation is one: our verdict differs from the peer’s', () => {
  const deviations = report.sources.flatMap((s) => s.notApplicable.filter((n) => n.ours));
  assert.ok(deviations.length > 0);
  const stale = deviations.filter((n) => n.ours!.verdict === n.case.expected);
  if (stale.length) assert.unreachable(`listed as deviations, but we agree with the peer: ${stale.map((n) => n.case.id).join(', ')}`);
});

test('the fixtures mapping.yaml names for peer deviations exist', () => {
  if (report.missingFixtures.length) assert.unreachable(`missing: ${report.missingFixtures.join(', ')}`);
});

test('every admission engine judged the budgeted cases', () => {
  assert.ok(report.kyverno.cases > 0);
  for (const leg of ADMISSION_LEGS) {
    const judged = report.sources.reduce((n, s) => n + s.applicable.filter((r) => r.verdicts[leg as Exclude<typeof leg, 'conftest'>]).length, 0);
    // Objects the API server would reject before admission are not theirs to judge.
    assert.ok(judged >= report.kyverno.cases * 0.8, `${leg} judged ${judged} of ${report.kyverno.cases} budgeted cases`);
  }
});

test.run();
