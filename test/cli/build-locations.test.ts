// Regression tests for bugs found while writing the unit tests (each fixed in src/):
// 1. src/emit/build.ts, stage load-spec: a spec in a folder without a package.json declaring
//    `"type": "module"` (e.g. /tmp/x/eci.ts) is loaded by tsImport as CommonJS, so the module's
//    `default` is the CommonJS exports object, not the builder: the build fails with
//    "spec-export: the spec must `export default` a ruleSet(...) builder" although it does.
// 2. src/emit/build.ts, lineOfRule: the line of a diagnostic is the first line that contains
//    the rule ID literal. For a duplicate rule ID the offending rule is the second one, but
//    the first one's line is printed.
// 3. src/ir/params.ts, parseParams: an unknown rule ID under a block-style `actions:` mapping
//    is reported at the line of the mapping's first key, not at the line of the unknown key
//    (the propertyNames error is located with the map node, not the offending key).
// 4. src/ir/params.ts, parseParams: an unknown top-level key whose value is a block mapping is
//    reported at the value's first line (the line after the key), not at the key.

import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  eciSpecText,
  failedBuild,
  lineOf,
  linesOf,
  makeWorkDir,
  PARAMS_TEXT,
  replaceOnce,
  resolveShown,
  runCli,
  snapshot,
  snapshotDiff,
  specFolder,
  started,
  type Run,
} from './cli-helpers.ts';

const work = makeWorkDir('cli-pending');
const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

// 1. A valid spec in a folder without package.json.
const plainDir = join(work, 'no-package-json');
mkdirSync(plainDir);
writeFileSync(join(plainDir, 'eci.ts'), eciSpecText());
writeFileSync(join(plainDir, 'eci.params.yaml'), PARAMS_TEXT);
const plain = started(runCli(['build', '--spec', join(plainDir, 'eci.ts'), '--out', join(plainDir, 'out'), '--no-bundle']));

test('a valid spec builds from a folder without package.json', async () => {
  const r = await plain;
  assert.is(r.code, 0, show(r));
});

// 2. ECI-CTR-004 renamed to ECI-CTR-003: the second ECI-CTR-003 (rules[7]) is the duplicate.
const dupText = eciSpecText((t) => replaceOnce(t, "id: 'ECI-CTR-004'", "id: 'ECI-CTR-003'"));
const dup = specFolder(work, 'dup', dupText);
const dupRun = started(runCli(['build', '--spec', dup.spec, '--out', dup.out, '--no-bundle']));

test('a duplicate rule ID is reported at the line of the duplicate, not of the first use', async () => {
  const r = await dupRun;
  assert.is(r.code, 2, show(r));
  const { diags } = failedBuild(r.stderr);
  const d = diags.find((x) => x.code === 'duplicate-rule-id');
  assert.ok(d, show(r));
  assert.is(resolveShown(d!.file), dup.spec);
  const [first, second] = linesOf(dupText, "id: 'ECI-CTR-003'");
  assert.ok(first !== undefined && second !== undefined && first < second);
  assert.is(d!.line, second, `expected line ${second} (the duplicate), got ${d!.line} (line ${first} is the first use)`);
});

// 3 and 4. Parameter files with block mappings.
const paramsSpec = specFolder(work, 'params');
const blockActions = replaceOnce(PARAMS_TEXT, 'actions: {}', 'actions:\n  ECI-POD-001: warn\n  NOPE-1: deny');
const blockUnknown = `${PARAMS_TEXT}notAParameter:\n  nested: 1\n`;
const paramRuns = [
  { name: 'unknown rule under a block-style actions mapping', text: blockActions, marker: 'NOPE-1: deny' },
  { name: 'unknown key with a block mapping value', text: blockUnknown, marker: 'notAParameter:' },
].map((c, i) => {
  const file = join(paramsSpec.dir, `case-${i}.params.yaml`);
  writeFileSync(file, c.text);
  return { ...c, file, run: started(runCli(['build', '--spec', paramsSpec.spec, '--params', file, '--out', join(paramsSpec.dir, 'out'), '--no-bundle'])) };
});

for (const c of paramRuns) {
  test(`params: ${c.name} is reported at the offending key's line`, async () => {
    const r = await c.run;
    assert.is(r.code, 2, show(r));
    const { diags } = failedBuild(r.stderr);
    assert.ok(diags.length > 0, show(r));
    const line = lineOf(c.text, c.marker);
    for (const d of diags) {
      assert.is(resolveShown(d.file), c.file);
      assert.is(d.line, line, `expected line ${line} (${c.marker}), got ${d.line}\n${show(r)}`);
    }
  });
}

// 5. A schema-valid but contradictory parameter file: SYS_RAWIO approved while ECI-CTR-001 is off.
const contradictoryText = replaceOnce(
  replaceOnce(PARAMS_TEXT, 'sysRawioApproved: false', 'sysRawioApproved: [team-a]'),
  'actions: {}',
  'actions:\n  ECI-CTR-001: "off"',
);
const contradictorySpec = specFolder(work, 'contradictory', eciSpecText(), contradictoryText);
const contradictoryBefore = snapshot(contradictorySpec.dir);
const contradictoryRun = started(
  runCli(['build', '--spec', contradictorySpec.spec, '--params', contradictorySpec.params, '--out', contradictorySpec.out, '--no-bundle']),
);

test('params: a contradictory file exits 2 with file:line: params-contradictory and writes nothing', async () => {
  const r = await contradictoryRun;
  assert.is(r.code, 2, show(r));
  assert.is(r.stdout, '');
  const { diags } = failedBuild(r.stderr);
  assert.is(diags.length, 1, show(r));
  const d = diags[0]!;
  assert.is(resolveShown(d.file), contradictorySpec.params);
  assert.is(d.line, lineOf(contradictoryText, 'sysRawioApproved:'));
  assert.is(d.code, 'params-contradictory');
  assert.ok(d.message.startsWith('sysRawioApproved approves team-a, but every rule reading it is off (ECI-CTR-001)'), show(r));
  assert.not.ok(existsSync(contradictorySpec.out), '--out must not be created');
  assert.equal(snapshotDiff(contradictoryBefore, snapshot(contradictorySpec.dir)), []);
});

test.after(() => {
  rmSync(work, { recursive: true, force: true });
});

test.run();
