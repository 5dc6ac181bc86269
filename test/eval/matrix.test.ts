// The verification matrix: every fixture of every rule set through OPA WASM, native opa and the
// Kyverno CLI (ClusterPolicy and ValidatingPolicy), and conftest over the Rego. Each engine's normalised violations must be exactly the fixture's expectation
// (so the engines also agree with each other). Kyverno does not judge inputs the API server
// would reject before admission; those are listed with the reason, not dropped silently.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compiled, ruleSetsWithFixtures } from '../harness/compiled.ts';
import { compareFacts, formatDiff } from '../harness/facts.ts';
import { loadFixtures } from '../../src/fixtures/corpus.ts';
import { ALL_LEGS, compareOptions, runMatrix, type EngineName } from '../harness/matrix.ts';

// Every rule set with fixtures (test/fixtures/<rule-set>/); RULE_SETS=<a,b> narrows them.
const RULE_SETS = ruleSetsWithFixtures();
// LEGS=<a,b> narrows the engines while working (the full suite runs them all).
const LEGS = (process.env['LEGS']?.split(',') ?? ALL_LEGS) as EngineName[];

// FIXTURES=<regex> narrows the corpus while working on a rule (the corpus test then fails,
// so a narrowed run can never pass as the full suite).
const only = process.env['FIXTURES'] ? new RegExp(process.env['FIXTURES']) : undefined;

for (const ruleSet of RULE_SETS) {
  const fixtures = loadFixtures(ruleSet).filter((f) => !only || only.test(f.name));
  const started = Date.now();
  const c = await compiled(ruleSet);
  const rows = await runMatrix(c, fixtures, LEGS);
  const runs = rows.reduce((n, r) => n + Object.keys(r.results).length, 0);
  const notApplicable = rows.filter((r) => r.kyvernoNotApplicable);
  const notConftest = rows.filter((r) => r.conftestNotApplicable);
  process.stdout.write(
    `\n[matrix] ${ruleSet}: ${fixtures.length} fixtures × ${LEGS.length} engines = ${runs} evaluations in ${Date.now() - started} ms; ` +
      `kyverno not applicable to ${notApplicable.length}:\n${notApplicable.map((r) => `  ${r.fixture.name}: ${r.kyvernoNotApplicable}`).join('\n')}\n` +
      `[matrix] ${ruleSet}: conftest not applicable to ${notConftest.length}:\n${notConftest.map((r) => `  ${r.fixture.name}: ${r.conftestNotApplicable}`).join('\n')}\n`,
  );

  test(`${ruleSet}: every rule has at least 3 fixtures and every engine judged most of the corpus`, () => {
    for (const rule of c.ruleSet.rules) {
      const own = fixtures.filter((f) => f.name.startsWith(`${ruleSet}/${rule.id}/`)).length;
      assert.ok(own >= 3, `${rule.id}: only ${own} fixtures in test/fixtures/${ruleSet}/${rule.id}/`);
    }
    for (const leg of LEGS) {
      const judged = rows.filter((r) => r.results[leg]).length;
      assert.ok(judged >= fixtures.length * 0.8, `${leg} judged only ${judged} of ${fixtures.length}`);
    }
  });

  for (const row of rows) {
    for (const leg of LEGS) {
      const actual = row.results[leg];
      if (!actual) continue;
      test(`${ruleSet} ${leg}: ${row.fixture.name}`, () => {
        const diff = compareFacts(row.fixture.expect, actual, compareOptions(leg));
        if (diff.missing.length || diff.unexpected.length) assert.unreachable(formatDiff(row.fixture.name, leg, diff));
      });
    }
  }
}

test.run();
