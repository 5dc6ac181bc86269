// `eci-policy docs`, run as a real process: the rule reference holds every rule of the
// catalogue with the catalogue's action (read from ../shared/ECI-RULES.md, not from the code),
// a failing and a passing example that are fixtures shown as written, and is deterministic;
// the committed generated/POLICIES.md is current and `--check` catches a stale one.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { makeWorkDir, ROOT, runCli, started, type Run } from './cli-helpers.ts';

const work = makeWorkDir('docs');
const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

// ---- the catalogue ------------------------------------------------------------------------------

const CATALOGUE = join(ROOT, '..', 'shared', 'ECI-RULES.md');
// Transcribed from ECI-RULES.md's rule table (default action column), for a checkout without
// ../shared; when the catalogue is there, the test below holds the transcription to it.
const TRANSCRIBED: Record<string, 'deny' | 'warn'> = {
  'ECI-POD-001': 'deny',
  'ECI-POD-002': 'deny',
  'ECI-POD-003': 'deny',
  'ECI-POD-004': 'warn',
  'ECI-CTR-001': 'deny',
  'ECI-CTR-002': 'deny',
  'ECI-CTR-003': 'deny',
  'ECI-CTR-004': 'warn',
  'ECI-CTR-005': 'deny',
  'ECI-CTR-006': 'deny',
  'ECI-CTR-007': 'warn',
  'ECI-CTR-008': 'warn',
};

/** `| ID | level | what | action |` rows of the catalogue's rule table. */
function catalogueActions(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    // ['', ID, level, what, action, '']
    if (cells.length >= 6 && /^ECI-[A-Z]+-[0-9]{3}$/.test(cells[1]!)) out[cells[1]!] = cells[cells.length - 2]!;
  }
  return out;
}

const ACTIONS: Record<string, string> = existsSync(CATALOGUE) ? catalogueActions(readFileSync(CATALOGUE, 'utf8')) : TRANSCRIBED;
// "Malformed input fails closed": what cannot be read is a deny (an unknown kind is reported, warn).
const INPUT_RULE = 'ECI-INPUT-001';
// The parameters the catalogue names in a rule's row.
const PARAMS_IN_CATALOGUE: Record<string, string> = {
  'ECI-POD-003': 'approvedHostSysctls',
  'ECI-CTR-001': 'sysRawioApproved',
  'ECI-CTR-002': 'privilegedApproved',
};

test('the catalogue lists the twelve rules with their default actions', () => {
  assert.equal(ACTIONS, TRANSCRIBED, existsSync(CATALOGUE) ? 'parsed from ECI-RULES.md' : 'transcription');
});

// ---- runs, started together ---------------------------------------------------------------------

const outA = join(work, 'a', 'POLICIES.md');
const outB = join(work, 'b.md');
const outOne = join(work, 'one.md');
const stale = join(work, 'stale.md');
const runA = started(runCli(['docs', '--out', outA]));
const runB = started(runCli(['docs', '--out', outB]));
const runOne = started(runCli(['docs', '--rule-set', 'eci', '--out', outOne]));
const runCheck = started(runCli(['docs', '--check']));
const committed = readFileSync(join(ROOT, 'generated', 'POLICIES.md'), 'utf8');
writeFileSync(stale, committed.replace('ECI-CTR-007', 'ECI-CTR-077'));
const runStale = started(runCli(['docs', '--check', '--out', stale]));
const runMissing = started(runCli(['docs', '--check', '--out', join(work, 'missing.md')]));
const runHelp = started(runCli(['docs', '--help']));
const bad = [
  ['docs', '--bogus'],
  ['docs', 'extra'],
  ['docs', '--rule-set', 'nope', '--out', join(work, 'nope.md')],
  ['docs', '--out'],
].map((args) => ({ args, run: started(runCli(args)) }));

// ---- the document -------------------------------------------------------------------------------

interface Example {
  readonly fixture: string;
  readonly blocks: string[];
}

/** The rule sections: `### <ID>: <title>` up to the next `###` heading. */
function sections(md: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of md.split(/^### /m).slice(1)) {
    const id = /^([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+): /.exec(part)?.[1];
    if (id) out.set(id, part);
  }
  return out;
}

/** The example after `**<label>:** \`<fixture>\``, with its fenced YAML blocks up to the next example. */
function exampleIn(section: string, label: string): Example | undefined {
  const start = section.indexOf(`**${label}:** \``);
  if (start < 0) return undefined;
  const rest = section.slice(start);
  const next = rest.indexOf('**', 2 + label.length + 4);
  const own = next < 0 ? rest : rest.slice(0, next);
  const fixture = /^\*\*[^*]+:\*\* `([^`]+)`/.exec(own)?.[1] ?? '';
  const blocks = [...own.matchAll(/^(`{3,})yaml\n([\s\S]*?)\n\1$/gm)].map((m) => m[2]!);
  return { fixture, blocks };
}

const fixtureFile = (shown: string) => join(ROOT, shown);

test('docs writes the reference: exit 0, every catalogue rule and the input rule', async () => {
  const r = await runA;
  assert.is(r.code, 0, show(r));
  assert.match(r.stdout, `wrote ${outA}`);
  assert.is((await runOne).code, 0);
  const md = readFileSync(outOne, 'utf8');
  const ids = [...sections(md).keys()];
  assert.equal(ids.sort(), [INPUT_RULE, ...Object.keys(ACTIONS)].sort());
  const header = md.split('\n').slice(0, 2);
  assert.match(header[0]!, /^<!-- Code generated by eci-policy .* from spec\/eci\.ts, spec\/eci\.params\.yaml and test\/fixtures\/eci\/ .*DO NOT EDIT\. -->$/);
  assert.match(header[1]!, /^<!-- Regenerate with: npm run build-policies -->$/);
});

test('each rule has the catalogue action, a level, what, why and how to fix', async () => {
  await runOne;
  const md = readFileSync(outOne, 'utf8');
  for (const [id, section] of sections(md)) {
    const action = /^- \*\*Action:\*\* `(deny|warn)`/m.exec(section)?.[1];
    assert.is(action, id === INPUT_RULE ? 'deny' : ACTIONS[id], `${id}'s action`);
    if (id !== INPUT_RULE) assert.match(section, 'the `actions` parameter can override it', `${id}: overridable`);
    else assert.match(section, /warn.*kind that is not checked/, 'the input rule warns about an unknown kind');
    assert.match(section, /^- \*\*Level:\*\* (pod|container)$/m, id);
    for (const part of ['**What.** ', '**Why.** ', '**How to fix.** ']) assert.match(section, part, `${id}: ${part}`);
    // Rationales cite where they come from.
    assert.match(/\*\*Why\.\*\* (.*)/.exec(section)![1]!, /ECI-RULES\.md|seed 00[04]/, `${id} cites its source`);
    const params = /^- \*\*Parameters read:\*\* (.*)$/m.exec(section)?.[1];
    assert.ok(params, `${id}: parameters line`);
    const named = PARAMS_IN_CATALOGUE[id];
    if (named) assert.match(params!, `\`${named}\``, `${id} reads ${named}`);
    else assert.is(params, 'none', `${id} reads no parameter`);
  }
});

test('each rule has a failing and a passing example: fixtures of its group, shown as written', async () => {
  await runA;
  const md = readFileSync(outA, 'utf8');
  // Every rule set's rules (a rule of two rule sets is checked in the last).
  for (const [id, section] of sections(md)) {
    const failing = exampleIn(section, 'Failing example');
    const passing = exampleIn(section, 'Passing example');
    assert.ok(failing && passing, `${id} has both examples`);
    const group = /-INPUT(-001)?$/.test(id) ? 'input-shapes' : id;
    for (const ex of [failing!, passing!]) {
      assert.match(ex.fixture, new RegExp(`^test/fixtures/[a-z_]+/${group}/`), `${id}: ${ex.fixture}`);
      assert.ok(existsSync(fixtureFile(ex.fixture)), ex.fixture);
    }
    // Failing: the input and the expected violations, which include one of this rule.
    assert.is(failing!.blocks.length, 2, `${id} failing: input and expected violations`);
    const fixture = parse(readFileSync(fixtureFile(failing!.fixture), 'utf8')) as { input: unknown; expect: unknown };
    const input: unknown = parse(failing!.blocks[0]!);
    assert.ok(input !== null && typeof input === 'object', `${id}: the failing input parses as YAML`);
    assert.equal(input, fixture.input, `${id}: the failing input is the fixture's`);
    const expected = parse(failing!.blocks[1]!) as { rule: string }[];
    assert.equal(expected, fixture.expect, `${id}: the expected violations are the fixture's`);
    assert.ok(expected.some((v) => v.rule === id), `${id}: the failing example violates it`);
    // Passing: the input, and no violation at all.
    assert.is(passing!.blocks.length, 1, `${id} passing: the input only`);
    const pass = parse(readFileSync(fixtureFile(passing!.fixture), 'utf8')) as { input: unknown; expect: unknown };
    assert.equal(parse(passing!.blocks[0]!), pass.input, `${id}: the passing input is the fixture's`);
    assert.equal(pass.expect, [], `${id}: the passing fixture expects nothing`);
    assert.match(section, /Expected violations: none\.\n/, id);
  }
});

test('a parameters section lists every parameter with its value and readers, and actions', async () => {
  await runA;
  const md = readFileSync(outA, 'utf8');
  const params = md.slice(md.indexOf('### Parameters of `eci`'));
  assert.ok(params.length > 0);
  for (const name of ['selector', 'approvedHostSysctls', 'privilegedApproved', 'sysRawioApproved', 'actions'])
    assert.match(params, `\`${name}\`: `, name);
  for (const [id, name] of Object.entries(PARAMS_IN_CATALOGUE)) {
    const entry = params.slice(params.indexOf(`\`${name}\`: `)).split('\n\n')[0]!;
    assert.match(entry, `Read by: ${id}.`, `${name} is read by ${id}`);
  }
});

test('deterministic: two runs write the same bytes, --rule-set eci its section; the committed file is current', async () => {
  for (const r of [await runA, await runB, await runOne]) assert.is(r.code, 0, show(r));
  const a = readFileSync(outA);
  assert.ok(a.equals(readFileSync(outB)), 'two runs differ');
  // The one-rule-set document is the full one's section of that rule set (after its own header).
  const one = readFileSync(outOne, 'utf8');
  assert.ok(a.toString('utf8').includes(one.slice(one.indexOf('\n## ')).trimEnd()), '--rule-set eci differs from its section');
  assert.ok(a.equals(Buffer.from(committed)), 'generated/POLICIES.md is stale: run npm run build-policies');
  const check = await runCheck;
  assert.is(check.code, 0, show(check));
  assert.match(check.stdout, 'generated/POLICIES.md is up to date');
});

test('--check exits 1 on a stale or missing file, and writes nothing', async () => {
  const r = await runStale;
  assert.is(r.code, 1, show(r));
  assert.match(r.stderr, 'is stale; run npm run build-policies');
  assert.match(readFileSync(stale, 'utf8'), 'ECI-CTR-077', 'the stale file is left as it was');
  const m = await runMissing;
  assert.is(m.code, 1, show(m));
  assert.match(m.stderr, 'is missing');
  assert.not.ok(existsSync(join(work, 'missing.md')));
});

test('--help: the usage and exit codes on stdout, exit 0', async () => {
  const r = await runHelp;
  assert.is(r.code, 0, show(r));
  assert.match(r.stdout, 'Usage: eci-policy docs [--rule-set <name>] [--out <file>] [--check]');
  assert.match(r.stdout, 'Exit codes: 0 ok, 1 stale output (--check), 2 usage or input error');
  assert.is(r.stderr, '');
});

for (const { args, run } of bad) {
  test(`bad usage exits 2 with the usage and writes nothing: ${args.slice(1, 3).join(' ')}`, async () => {
    const r = await run;
    assert.is(r.code, 2, show(r));
    assert.match(r.stderr, /^eci-policy: .+\n\nUsage: eci-policy docs/);
    assert.is(r.stdout, '');
  });
}

test('--rule-set with an unknown name lists the rule sets', async () => {
  const r = await bad[2]!.run;
  assert.match(r.stderr, 'no rule set nope in spec/ (rule sets: eci, pss_baseline, pss_restricted)');
  assert.not.ok(existsSync(join(work, 'nope.md')));
});

test.run();
