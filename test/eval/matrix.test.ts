// The verification matrix: every fixture of every rule set through OPA WASM, native opa and the
// Kyverno CLI. Each engine's normalised violations must be exactly the fixture's expectation
// (so the engines also agree with each other). Kyverno does not judge inputs the API server
// would reject before admission; those are listed with the reason, not dropped silently.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compiled } from '../harness/compiled.ts';
import { compareFacts, formatDiff } from '../harness/facts.ts';
import { loadFixtures } from '../../src/fixtures/corpus.ts';
import { runMatrix, type EngineName } from '../harness/matrix.ts';

const RULE_SETS = ['eci'];
const LEGS: EngineName[] = ['opa-wasm', 'opa', 'kyverno'];

// FIXTURES=<regex> narrows the corpus while working on a rule (the corpus test then fails,
// so a narrowed run can never pass as the full suite).
const only = process.env['FIXTURES'] ? new RegExp(process.env['FIXTURES']) : undefined;

for (const ruleSet of RULE_SETS) {
  const fixtures = loadFixtures(ruleSet).filter((f) => !only || only.test(f.name));
  const started = Date.now();
  const rows = await runMatrix(await compiled(ruleSet), fixtures, LEGS);
  const runs = rows.reduce((n, r) => n + Object.keys(r.results).length, 0);
  const notApplicable = rows.filter((r) => r.kyvernoNotApplicable);
  process.stdout.write(
    `\n[matrix] ${ruleSet}: ${fixtures.length} fixtures × ${LEGS.length} engines = ${runs} evaluations in ${Date.now() - started} ms; ` +
      `kyverno not applicable to ${notApplicable.length}:\n${notApplicable.map((r) => `  ${r.fixture.name}: ${r.kyvernoNotApplicable}`).join('\n')}\n`,
  );

  test(`${ruleSet}: the corpus is not empty and every engine judged most of it`, () => {
    assert.ok(fixtures.length >= 100, `only ${fixtures.length} fixtures`);
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
        const diff = compareFacts(row.fixture.expect, actual, leg === 'kyverno' ? { ignore: ['value'] } : {});
        if (diff.missing.length || diff.unexpected.length) assert.unreachable(formatDiff(row.fixture.name, leg, diff));
      });
    }
  }
}

test.run();
