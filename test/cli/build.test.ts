// The build command, run as a real process (`node --import tsx src/cli/main.ts build`) against
// specs and parameter files in temporary folders, always with --out in a temporary folder.
// The scenarios are independent and start together; each test awaits its own.

import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  eciSpecText,
  failedBuild,
  lineOf,
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

const work = makeWorkDir('cli');
const FAILED = 'eci-policy: eci.ts: build failed, nothing written';
const USAGE = 'Usage: eci-policy build';

const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

// ---- (a) a spec with errors -------------------------------------------------------------------

// Four kinds of error in four rules of a copy of spec/eci.ts.
const badSpecText = eciSpecText((t) => {
  let s = t;
  // ECI-POD-003: a parameter that is not declared.
  s = replaceOnce(s, "inParamList(item, 'approvedHostSysctls'", "inParamList(item, 'approvedHostSysctlz'");
  // ECI-CTR-002: namespaceApproved on a stringList parameter.
  s = replaceOnce(s, "namespaceApproved('privilegedApproved')", "namespaceApproved('approvedHostSysctls')");
  // ECI-POD-002: the non-negative integer regex no longer compiles (three checks use it).
  s = replaceOnce(s, "const nonNegativeInteger = '^[0-9]+$';", "const nonNegativeInteger = '^[0-9+$';");
  // ECI-POD-004: a container field read by a check over pod securityContext keys.
  s = replaceOnce(
    s,
    "present(item),\n    'pod securityContext field is not honoured",
    "present(container.ref('securityContext')),\n    'pod securityContext field is not honoured",
  );
  return s;
});
const badSpec = specFolder(work, 'bad-spec', badSpecText);
const expectedSpecErrors = [
  { code: 'unknown-param', rule: 'ECI-POD-003', count: 1 },
  { code: 'param-type', rule: 'ECI-CTR-002', count: 1 },
  { code: 'bad-regex', rule: 'ECI-POD-002', count: 3 },
  { code: 'ref-out-of-context', rule: 'ECI-POD-004', count: 1 },
];
const scenarioA = started(runCli(['build', '--spec', badSpec.spec, '--out', badSpec.out]));

test('(a) spec errors: every one printed as file:line: code: message, exit 2, nothing written', async () => {
  const r = await scenarioA;
  assert.is(r.code, 2, show(r));
  const { diags, other } = failedBuild(r.stderr);
  assert.equal(other, [FAILED], show(r));
  assert.is(diags.length, expectedSpecErrors.reduce((n, e) => n + e.count, 0), show(r));
  for (const d of diags) {
    assert.is(resolveShown(d.file), badSpec.spec, `the diagnostic names the spec file: ${d.file}`);
    // The path names the rule; the line is the line of that rule's ID in the spec.
    const rule = /\(at rules\[[0-9]+\] \(([A-Z0-9-]+)\)/.exec(d.message)?.[1];
    assert.ok(rule, `the message names the rule: ${d.message}`);
    assert.is(d.line, lineOf(badSpecText, `id: '${rule}'`), `${d.code} in ${rule}`);
  }
  for (const e of expectedSpecErrors) {
    const got = diags.filter((d) => d.code === e.code && d.message.includes(`(${e.rule})`));
    assert.is(got.length, e.count, `${e.code} in ${e.rule}\n${show(r)}`);
  }
  assert.is(r.stdout, '');
  assert.not.ok(existsSync(badSpec.out), '--out must not be created by a failed build');
});

// ---- (b) parameter files with errors ----------------------------------------------------------

const paramsSpec = specFolder(work, 'params');
const header = '# Parameters for a test.\n# Several comment lines, so that line numbers are not small.\n\n';
const paramCases = [
  {
    name: 'YAML syntax error',
    text: `${header}selector:\n  matchLabels:\n    alibabacloud.com/eci: "true"\napprovedHostSysctls: @reserved\nprivilegedApproved: false\nsysRawioApproved: false\nactions: {}\n`,
    marker: 'approvedHostSysctls: @reserved',
    code: 'params-yaml',
    mentions: undefined,
  },
  {
    name: 'unknown key',
    text: `${PARAMS_TEXT}notAParameter: 1\n`,
    marker: 'notAParameter: 1',
    code: 'params-invalid',
    mentions: 'notAParameter',
  },
  {
    name: 'privilegedApproved: "yes"',
    text: replaceOnce(PARAMS_TEXT, 'privilegedApproved: false', 'privilegedApproved: "yes"'),
    marker: 'privilegedApproved: "yes"',
    code: 'params-invalid',
    mentions: 'privilegedApproved',
  },
  {
    name: 'actions: {NOPE-1: deny}',
    text: replaceOnce(PARAMS_TEXT, 'actions: {}', 'actions: {NOPE-1: deny}'),
    marker: 'actions: {NOPE-1: deny}',
    code: 'params-invalid',
    mentions: 'NOPE-1',
  },
].map((c, i) => {
  const file = join(paramsSpec.dir, `case-${i}.params.yaml`);
  writeFileSync(file, c.text);
  const out = join(paramsSpec.dir, `out-${i}`);
  return { ...c, file, out, run: started(runCli(['build', '--spec', paramsSpec.spec, '--params', file, '--out', out, '--no-bundle'])) };
});

for (const c of paramCases) {
  test(`(b) params ${c.name}: exit 2, the file and the line named`, async () => {
    const r = await c.run;
    assert.is(r.code, 2, show(r));
    const { diags, other } = failedBuild(r.stderr);
    assert.equal(other, [FAILED], show(r));
    assert.ok(diags.length > 0, show(r));
    const line = lineOf(c.text, c.marker);
    for (const d of diags) {
      assert.is(resolveShown(d.file), c.file, `names the parameter file: ${d.file}`);
      assert.is(d.code, c.code, show(r));
      assert.is(d.line, line, `line of ${JSON.stringify(c.marker)}\n${show(r)}`);
    }
    if (c.mentions) assert.ok(diags.some((d) => d.message.includes(c.mentions)), show(r));
    assert.not.ok(existsSync(c.out));
  });
}

// ---- (c) and (d): one build, then a failed build into the same --out, then --check -------------
// (One build for both: every CLI run costs seconds, and the failed build must change nothing.)

const built = specFolder(work, 'built');
// A failed build of the same rule set (eci) into the same --out: its spec loads and validates,
// its parameter file does not.
const badParams = join(built.dir, 'bad.params.yaml');
writeFileSync(badParams, replaceOnce(PARAMS_TEXT, 'sysRawioApproved: false', 'sysRawioApproved: maybe'));
const generatedRego = join(built.out, 'eci', 'rego', 'policy.rego');

const scenarioCD = started(
  (async () => {
    const build = await runCli(['build', '--spec', built.spec, '--out', built.out]);
    const before = snapshot(built.dir);
    const paramsFail = await runCli(['build', '--spec', built.spec, '--params', badParams, '--out', built.out]);
    const afterFail = snapshot(built.dir);
    const fresh = await runCli(['build', '--spec', built.spec, '--out', built.out, '--check']);
    const unchanged = snapshot(built.out);
    writeFileSync(generatedRego, `${readFileSync(generatedRego, 'utf8')}\n# edited by hand\n`);
    // The bundle was compared by the check above; this one compares the other files.
    const stale = await runCli(['build', '--spec', built.spec, '--out', built.out, '--check', '--no-bundle']);
    return { build, before, paramsFail, afterFail, fresh, unchanged, stale, afterStale: snapshot(built.out) };
  })(),
);

test('(c) a failed build leaves a previously written --out byte-identical', async () => {
  const { build, before, paramsFail, afterFail } = await scenarioCD;
  assert.is(build.code, 0, show(build));
  for (const f of ['rego/policy.rego', 'kyverno/clusterpolicy.yaml', 'bundle/policy.wasm', 'bundle/data.json', 'bundle/.manifest'])
    assert.ok(before.has(`out/eci/${f}`), `the first build wrote ${f}`);
  assert.is(paramsFail.code, 2, show(paramsFail));
  assert.ok(paramsFail.stderr.includes(': params-invalid: sysRawioApproved'), show(paramsFail));
  assert.ok(paramsFail.stderr.includes(FAILED), show(paramsFail));
  // Same files, same folders, same bytes; no staging or previous folder left beside out/eci.
  assert.equal(snapshotDiff(before, afterFail), []);
  assert.equal(
    [...afterFail.keys()].filter((k) => k.startsWith('out/') && k.split('/').length === 3 && k.endsWith('/')),
    ['out/eci/'],
  );
});

test('(d) --check: exit 0 right after a build, exit 1 naming the one edited file', async () => {
  const { fresh, unchanged, stale, afterStale } = await scenarioCD;
  assert.is(fresh.code, 0, show(fresh));
  assert.ok(fresh.stdout.includes('up to date'), show(fresh));
  assert.is(stale.code, 1, show(stale));
  const listed = stale.stderr
    .split('\n')
    .map((l) => /^\s+(missing|extra|differs)\s+(\S+)$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => [m[1], m[2]]);
  assert.equal(listed, [['differs', 'rego/policy.rego']], show(stale));
  // A readable diff: where, and the hand-written lines a fresh build drops.
  assert.match(stale.stderr, /differs {2}rego\/policy\.rego\n +@@ line \d+ @@\n(?: +[-+].*\n)*? +- # edited by hand\n/, show(stale));
  // --check never writes: only the hand edit differs from the build.
  assert.equal(snapshotDiff(unchanged, afterStale), ['eci/rego/policy.rego']);
});

// ---- (e) bad usage ------------------------------------------------------------------------------

const usageOut = join(work, 'usage-out');
const usageCases = [
  { name: 'unknown flag', args: ['build', '--no-such-flag', '--out', usageOut], says: '--no-such-flag' },
  { name: 'unknown command', args: ['frobnicate', '--out', usageOut], says: 'unknown command frobnicate' },
].map((c) => ({ ...c, run: started(runCli(c.args)) }));

for (const c of usageCases) {
  test(`(e) bad usage (${c.name}): exit 2 with the usage text`, async () => {
    const r = await c.run;
    assert.is(r.code, 2, show(r));
    assert.ok(`${r.stdout}${r.stderr}`.includes(USAGE), show(r));
    assert.ok(r.stderr.includes(c.says), show(r));
    assert.not.ok(existsSync(usageOut), 'bad usage builds nothing');
  });
}

test.after(() => {
  rmSync(work, { recursive: true, force: true });
});

test.run();
