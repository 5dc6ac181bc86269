// `eci-policy explain <RULE-ID>`, run as a real process: one rule of the reference as plain
// text (the same examples as generated/POLICIES.md), IDs matched case-insensitively, an unknown
// ID exits 2 with the closest IDs, and the main usage lists docs and explain.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { ROOT, runCli, started, type Run } from './cli-helpers.ts';

const show = (r: Run) => `exit ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;

const upper = started(runCli(['explain', 'ECI-POD-003']));
const lower = started(runCli(['explain', 'eci-pod-003', '--rule-set', 'eci']));
const input = started(runCli(['explain', 'ECI-INPUT-001']));
const unknown = started(runCli(['explain', 'ECI-POD-030']));
const far = started(runCli(['explain', 'nothing-like-it']));
const help = started(runCli(['explain', '--help']));
const noId = started(runCli(['explain']));
const twoIds = started(runCli(['explain', 'ECI-POD-001', 'ECI-POD-002']));
const badSet = started(runCli(['explain', 'ECI-POD-001', '--rule-set', 'nope']));
const mainHelp = started(runCli(['--help']));

/** The rule's section of the committed reference (kept current by test/cli/docs.test.ts). */
function docsSection(id: string): string {
  const md = readFileSync(join(ROOT, 'generated', 'POLICIES.md'), 'utf8');
  return md.split(/^### /m).find((s) => s.startsWith(`${id}: `)) ?? '';
}

test('a known ID: the rule in plain text, exit 0', async () => {
  const r = await upper;
  assert.is(r.code, 0, show(r));
  assert.is(r.stderr, '');
  const out = r.stdout;
  assert.match(out, /^ECI-POD-003: /);
  // ECI-RULES.md: ECI-POD-003 is a deny, and reads approvedHostSysctls.
  assert.match(out, /^Action {6}deny by default/m);
  assert.match(out, /^Level {7}pod$/m);
  assert.match(out, /^Parameters {2}approvedHostSysctls: /m);
  for (const heading of ['What', 'Why', 'How to fix']) assert.match(out, new RegExp(`^${heading}\\n  \\S`, 'm'), heading);
  // No Markdown: no emphasis, fences, links, anchors or escapes.
  for (const noise of ['**', '```', '](#', '<a id', '\\*', '\\<']) assert.not.ok(out.includes(noise), `Markdown noise ${noise}`);
  // Prose is wrapped at 80 columns when piped; only the YAML examples (indented 4) run on.
  for (const line of out.split('\n')) if (!line.startsWith('    ')) assert.ok(line.length <= 80, `too long: ${line}`);
});

test('the same examples as generated/POLICIES.md, the input shown as YAML', async () => {
  const r = await upper;
  const section = docsSection('ECI-POD-003');
  const failing = /^Failing example: (\S+)$/m.exec(r.stdout)?.[1];
  const passing = /^Passing example: (\S+)$/m.exec(r.stdout)?.[1];
  assert.ok(failing && passing, show(r));
  assert.match(section, `**Failing example:** \`${failing}\``);
  assert.match(section, `**Passing example:** \`${passing}\``);
  // The failing example's input block (indented 4) parses to the fixture's input.
  const after = r.stdout.slice(r.stdout.indexOf(`Failing example: ${failing}`));
  const block = after.split('\n\n')[1]!;
  const fixture = parse(readFileSync(join(ROOT, failing!), 'utf8')) as { input: unknown };
  assert.equal(parse(block.replace(/^ {4}/gm, '')), fixture.input);
  assert.match(after, /Expected violations:\n\n {4}- rule: ECI-POD-003\n/);
  assert.match(r.stdout, /Expected violations: none\n$/);
});

test('IDs are case-insensitive: eci-pod-003 prints the same as ECI-POD-003', async () => {
  const [a, b] = [await upper, await lower];
  assert.is(b.code, 0, show(b));
  assert.is(b.stdout, a.stdout);
});

test('the input rule: deny, warn for kinds not checked, not overridable', async () => {
  const r = await input;
  assert.is(r.code, 0, show(r));
  assert.match(r.stdout, /^Action {6}deny for a resource that cannot be read; warn for/m);
  assert.match(r.stdout.replace(/\s+/g, ' '), 'the actions parameter does not name this rule');
});

test('an unknown ID exits 2 and suggests the closest IDs', async () => {
  const r = await unknown;
  assert.is(r.code, 2, show(r));
  assert.is(r.stdout, '');
  assert.match(r.stderr, /^eci-policy: no rule ECI-POD-030 in spec\/; did you mean ECI-POD-003(, [A-Z0-9-]+)*\?\n$/);
  const f = await far;
  assert.is(f.code, 2, show(f));
  assert.match(f.stderr, 'no rule nothing-like-it in spec/; the rules are ECI-INPUT-001, ECI-POD-001');
});

test('--help: the usage on stdout, exit 0', async () => {
  const r = await help;
  assert.is(r.code, 0, show(r));
  assert.match(r.stdout, 'Usage: eci-policy explain <RULE-ID> [--rule-set <name>]');
  assert.match(r.stdout, 'Exit codes: 0 ok, 2 usage error, an unknown rule ID');
});

test('bad usage exits 2 with the usage: no ID, two IDs, an unknown rule set', async () => {
  for (const [p, message] of [
    [noId, 'name the rule to explain'],
    [twoIds, 'name one rule ID'],
    [badSet, 'no rule set nope in spec/ (rule sets: eci, pss_baseline, pss_restricted)'],
  ] as const) {
    const r = await p;
    assert.is(r.code, 2, show(r));
    assert.match(r.stderr, `eci-policy: ${message}`);
    assert.match(r.stderr, 'Usage: eci-policy explain');
    assert.is(r.stdout, '');
  }
});

test('the main usage lists docs and explain with their usage', async () => {
  const r = await mainHelp;
  assert.is(r.code, 0, show(r));
  assert.match(r.stdout, /^ {2}docs {4}write the rule reference/m);
  assert.match(r.stdout, /^ {2}explain print one rule/m);
  assert.match(r.stdout, 'Usage: eci-policy docs');
  assert.match(r.stdout, 'Usage: eci-policy explain');
});

test.run();
