// Parameter files that the schema accepts but that contradict the rule set: an approval no rule
// can use, an empty namespace list, entries that one rule compares as one, selector labels that
// can never match. Every problem is reported in one pass, at its YAML line; the committed
// parameters and every fixture's parameters still validate.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { all, any, inParamList, item, not, param, pod, rule, ruleSet, someItem } from '../../src/dsl/index.ts';
import { PROJECT_ROOT } from '../../src/emit/engines.ts';
import { loadFixtures } from '../../src/fixtures/corpus.ts';
import type { Diagnostic } from '../../src/ir/diagnostics.ts';
import { parseParams, validateParamValues } from '../../src/ir/params.ts';
import type { RuleSet } from '../../src/ir/types.ts';
import { validateRuleSet } from '../../src/ir/validate.ts';
import eci from '../../spec/eci.ts';
import { head } from './bad-ir.ts';

const validated = (ir: RuleSet): RuleSet => {
  const r = validateRuleSet(ir);
  if (!r.ok) throw new Error(`rule set does not validate: ${JSON.stringify(r.errors)}`);
  return r.value;
};
const rs = validated(eci.toIR());
const FILE = 'spec/eci.params.yaml';
const COMMITTED = readFileSync(join(PROJECT_ROOT, FILE), 'utf8');

const show = (errors: readonly Diagnostic[]) => errors.map((e) => `${e.line}: ${e.code}: ${e.message}`).join('\n');

/** The 1-based line of the only line of `text` containing `needle`. */
function lineOf(text: string, needle: string): number {
  const hits = text.split('\n').flatMap((l, i) => (l.includes(needle) ? [i + 1] : []));
  if (hits.length !== 1) throw new Error(`expected one line containing ${JSON.stringify(needle)}, found ${hits.length}`);
  return hits[0]!;
}

/** A parameter file: the defaults with some top-level entries replaced (each given as YAML text). */
function paramsText(entries: { selector?: string; approvedHostSysctls?: string; privilegedApproved?: string; sysRawioApproved?: string; actions?: string }): string {
  return [
    `selector:${entries.selector ?? '\n  matchLabels:\n    alibabacloud.com/eci: "true"'}`,
    `approvedHostSysctls:${entries.approvedHostSysctls ?? ' []'}`,
    `privilegedApproved:${entries.privilegedApproved ?? ' false'}`,
    `sysRawioApproved:${entries.sysRawioApproved ?? ' false'}`,
    `actions:${entries.actions ?? ' {}'}`,
    '',
  ].join('\n');
}

function errorsOf(text: string, ruleSetIR: RuleSet = rs): readonly Diagnostic[] {
  const r = parseParams(ruleSetIR, text, FILE);
  assert.not.ok(r.ok, `expected errors for:\n${text}`);
  return r.ok ? [] : r.errors;
}

function accepts(text: string, ruleSetIR: RuleSet = rs): void {
  const r = parseParams(ruleSetIR, text, FILE);
  assert.ok(r.ok, `expected no errors for:\n${text}\ngot:\n${r.ok ? '' : show(r.errors)}`);
}

/** Exactly one error, with this code, at the line of `marker`, its message `message`. */
function oneError(text: string, code: string, marker: string, message: string | RegExp): Diagnostic {
  const errors = errorsOf(text);
  assert.is(errors.length, 1, show(errors));
  const e = errors[0]!;
  assert.is(e.code, code, show(errors));
  assert.is(e.file, FILE);
  assert.is(e.line, lineOf(text, marker), `expected the line of ${JSON.stringify(marker)}\n${show(errors)}`);
  if (typeof message === 'string') assert.is(e.message, message);
  else assert.match(e.message, message);
  return e;
}

// ---- What still validates -----------------------------------------------------------------

test('the committed spec/eci.params.yaml validates', () => {
  accepts(COMMITTED);
});

test("every fixture's parameters (its keys over the committed ones) still validate", () => {
  const defaults = parseParams(rs, COMMITTED, FILE);
  if (!defaults.ok) throw new Error(show(defaults.errors));
  const fixtures = loadFixtures('eci');
  assert.ok(fixtures.length > 100, `expected the ECI corpus, found ${fixtures.length} fixtures`);
  const withParams = fixtures.filter((f) => f.params);
  assert.ok(withParams.length > 10, `expected fixtures with parameters, found ${withParams.length}`);
  const failing = withParams.flatMap((f) => {
    const r = validateParamValues(rs, { ...defaults.value, ...f.params }, f.name);
    return r.ok ? [] : r.errors.map((e) => `${f.name}: ${e.code}: ${e.message}`);
  });
  assert.equal(failing, []);
});

test('an approval whose rule is on (its default, warn or deny) is not contradictory', () => {
  accepts(paramsText({ sysRawioApproved: ' [team-a]' }));
  accepts(paramsText({ sysRawioApproved: ' [team-a]', actions: '\n  ECI-CTR-001: warn' }));
  accepts(paramsText({ approvedHostSysctls: ' [kernel.panic]', actions: '\n  ECI-POD-003: deny' }));
  // Another rule off does not matter.
  accepts(paramsText({ sysRawioApproved: ' [team-a]', actions: '\n  ECI-CTR-002: "off"' }));
});

test('an empty list and false grant nothing: not contradictory with their rules off', () => {
  accepts(paramsText({ approvedHostSysctls: ' []', privilegedApproved: ' false', actions: '\n  ECI-POD-003: "off"\n  ECI-CTR-002: "off"' }));
});

test('valid label keys and values are accepted, at their length limits too', () => {
  const prefix = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`; // 253 characters
  assert.is(prefix.length, 253);
  const labels = [
    'alibabacloud.com/eci: "true"',
    'app: web',
    `${'n'.repeat(63)}: ${'v'.repeat(63)}`,
    `${prefix}/x: "1"`,
    'A.b-c_D: X.y-z_9',
    'k8s.io/Name_1: ""',
    '"7": "7"',
  ];
  accepts(paramsText({ selector: `\n  matchLabels:\n${labels.map((l) => `    ${l}`).join('\n')}` }));
});

// ---- 1. An approval that every rule reading it ignores ------------------------------------

test('1. a namespace approval whose only rule is off is an error at the key', () => {
  const text = paramsText({ sysRawioApproved: ' [team-a]', actions: '\n  ECI-CTR-001: "off"' });
  const e = oneError(
    text,
    'params-contradictory',
    'sysRawioApproved:',
    'sysRawioApproved approves team-a, but every rule reading it is off (ECI-CTR-001)',
  );
  assert.is(e.column, 1);
  assert.is(e.path, 'sysRawioApproved');
});

test('1. a block list of namespaces is located at the key and named in full', () => {
  const text = paramsText({ privilegedApproved: '\n  - team-a\n  - team-b', actions: '\n  ECI-CTR-002: "off"' });
  oneError(text, 'params-contradictory', 'privilegedApproved:', 'privilegedApproved approves team-a, team-b, but every rule reading it is off (ECI-CTR-002)');
});

test('1. a non-empty string list whose only rule is off is an error at the key', () => {
  const text = paramsText({ approvedHostSysctls: ' [kernel.panic, kernel.core_pattern]', actions: '\n  ECI-POD-003: "off"' });
  oneError(
    text,
    'params-contradictory',
    'approvedHostSysctls:',
    'approvedHostSysctls approves kernel.panic, kernel.core_pattern, but every rule reading it is off (ECI-POD-003)',
  );
});

// ---- 2. An empty namespace list ----------------------------------------------------------

test('2. a namespace approval given as [] is an error at the key: write false', () => {
  const text = paramsText({ privilegedApproved: ' []' });
  oneError(text, 'params-contradictory', 'privilegedApproved:', 'privilegedApproved approves no namespace; write false');
});

// ---- 3. Entries that the reading rule compares as one -------------------------------------

test('3. sysctl names that collide after the sysctlName transform: error at the second entry', () => {
  const text = paramsText({ approvedHostSysctls: '\n  - net.ipv4.ip_forward\n  - kernel.panic\n  - net/ipv4/ip_forward' });
  const e = oneError(
    text,
    'params-duplicate',
    '- net/ipv4/ip_forward',
    'approvedHostSysctls lists net.ipv4.ip_forward and net/ipv4/ip_forward, which ECI-POD-003 compares as one (net.ipv4.ip_forward after the sysctlName transform); keep one',
  );
  assert.is(e.path, 'approvedHostSysctls.2');
});

test('3. three spellings of one sysctl: the second and third are each reported against the first', () => {
  const text = paramsText({ approvedHostSysctls: '\n  - net/ipv4/ip_forward\n  - net.ipv4/ip_forward\n  - net.ipv4.ip_forward' });
  const errors = errorsOf(text);
  assert.equal(
    errors.map((e) => [e.code, e.line]),
    [
      ['params-duplicate', lineOf(text, '- net.ipv4/ip_forward')],
      ['params-duplicate', lineOf(text, '- net.ipv4.ip_forward')],
    ],
    show(errors),
  );
  assert.ok(errors.every((e) => e.message.includes('net/ipv4/ip_forward and ')), show(errors));
});

// ---- 4. Selector labels that can never match a pod ----------------------------------------

const badKeys: readonly [string, RegExp][] = [
  ['Example.com/eci', /prefix before \/ must be a DNS subdomain/],
  ['exa_mple.com/eci', /prefix before \/ must be a DNS subdomain/],
  ['example..com/eci', /prefix before \/ must be a DNS subdomain/],
  [`${'p'.repeat(254)}/eci`, /prefix before \/ must be a DNS subdomain/],
  ['/eci', /prefix before \/ must be a DNS subdomain/],
  ['example.com/', /name after \/ must be at most 63/],
  ['a/b/c', /name after \/ must be at most 63/],
  ['eci label', /name must be at most 63/],
  ['-eci', /name must be at most 63/],
  ['eci.', /name must be at most 63/],
  [`${'n'.repeat(64)}`, /name must be at most 63/],
  ['中文', /name must be at most 63/],
];

for (const [key, why] of badKeys) {
  test(`4. label key ${JSON.stringify(key.length > 40 ? `${key.slice(0, 20)}…` : key)} is invalid, at its line`, () => {
    const quoted = JSON.stringify(key);
    const text = paramsText({ selector: `\n  matchLabels:\n    alibabacloud.com/eci: "true"\n    ${quoted}: "x"` });
    const e = oneError(text, 'params-invalid', `${quoted}:`, new RegExp(`^selector\\.matchLabels key ${quoted.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a valid Kubernetes label key, so it can never match a pod: `));
    assert.match(e.message, why);
    assert.is(e.column, 5);
  });
}

const badValues: readonly string[] = ['not ok!', '-true', 'true.', 'v'.repeat(64), 'two words', 'ü'];

for (const value of badValues) {
  test(`4. label value ${JSON.stringify(value.length > 40 ? `${value.slice(0, 20)}…` : value)} is invalid, at its key's line`, () => {
    const text = paramsText({ selector: `\n  matchLabels:\n    app: web\n    eci: ${JSON.stringify(value)}` });
    oneError(
      text,
      'params-invalid',
      'eci:',
      `selector.matchLabels value ${JSON.stringify(value)} (of "eci") is not a valid Kubernetes label value, so it can never match a pod: a value must be empty or at most 63 letters, digits, -, _ and ., beginning and ending with a letter or digit`,
    );
  });
}

test('4. a flow-style selector: the invalid key is located on its line', () => {
  const text = paramsText({ selector: ' {matchLabels: {"Bad Key": "x"}}' });
  oneError(text, 'params-invalid', 'selector:', /"Bad Key" is not a valid Kubernetes label key/);
});

// ---- All at once ----------------------------------------------------------------------------

test('a file with several problems gets every error in one pass, in file order', () => {
  const text = [
    '# Several contradictions at once.',
    'selector:',
    '  matchLabels:',
    '    alibabacloud.com/eci: "true"',
    '    Bad/key: "x"',
    '    tier: "not valid"',
    'approvedHostSysctls:',
    '  - kernel.panic',
    '  - net.core.somaxconn',
    '  - net/core/somaxconn',
    'privilegedApproved: []',
    'sysRawioApproved: [team-a, team-b]',
    'actions:',
    '  ECI-CTR-001: "off"',
    '  ECI-POD-003: "off"',
    '',
  ].join('\n');
  const errors = errorsOf(text);
  assert.equal(
    errors.map((e) => [e.line, e.code]),
    [
      [lineOf(text, 'Bad/key'), 'params-invalid'],
      [lineOf(text, 'tier:'), 'params-invalid'],
      [lineOf(text, 'approvedHostSysctls:'), 'params-contradictory'],
      [lineOf(text, '- net/core/somaxconn'), 'params-duplicate'],
      [lineOf(text, 'privilegedApproved:'), 'params-contradictory'],
      [lineOf(text, 'sysRawioApproved:'), 'params-contradictory'],
    ],
    show(errors),
  );
  assert.ok(errors.every((e) => e.file === FILE));
  assert.is(errors[2]!.message, 'approvedHostSysctls approves kernel.panic, net.core.somaxconn, net/core/somaxconn, but every rule reading it is off (ECI-POD-003)');
  assert.is(errors[5]!.message, 'sysRawioApproved approves team-a, team-b, but every rule reading it is off (ECI-CTR-001)');
});

test('the semantic checks run only once the schema passes', () => {
  const text = `${paramsText({ privilegedApproved: ' []' })}notAParameter: 1\n`;
  const errors = errorsOf(text);
  assert.equal(
    errors.map((e) => [e.code, e.message]),
    [['params-invalid', 'unknown parameter notAParameter']],
    show(errors),
  );
});

// ---- Values given as data (fixture overrides) ---------------------------------------------

test('validateParamValues applies the same checks, naming where and the path', () => {
  const r = validateParamValues(
    rs,
    {
      selector: { matchLabels: { 'bad key': 'x' } },
      approvedHostSysctls: ['kernel.shmmax', 'kernel/shmmax'],
      privilegedApproved: [],
      sysRawioApproved: ['team-a'],
      actions: { 'ECI-CTR-001': 'off' },
    },
    'params/some-fixture.yaml',
  );
  assert.not.ok(r.ok);
  if (r.ok) return;
  assert.equal(
    r.errors.map((e) => [e.code, e.file, e.path, e.line]),
    [
      ['params-invalid', 'params/some-fixture.yaml', 'selector.matchLabels.bad key', undefined],
      ['params-duplicate', 'params/some-fixture.yaml', 'approvedHostSysctls.1', undefined],
      ['params-contradictory', 'params/some-fixture.yaml', 'privilegedApproved', undefined],
      ['params-contradictory', 'params/some-fixture.yaml', 'sysRawioApproved', undefined],
    ],
    show(r.errors),
  );
  assert.is(r.errors[1]!.message, 'approvedHostSysctls lists kernel.shmmax and kernel/shmmax, which ECI-POD-003 compares as one (kernel.shmmax after the sysctlName transform); keep one');
  assert.is(r.errors[3]!.message, 'sysRawioApproved approves team-a, but every rule reading it is off (ECI-CTR-001)');
});

// ---- Generic over the IR ------------------------------------------------------------------

// A rule set of its own: `caps` is read by two rules, one through `upper` deep inside the
// condition, the other as written.
const generic = validated(
  ruleSet({ name: 'gen', title: 'Generic', version: '1.0.0', inputRule: { id: 'GEN-INPUT-001', title: 'Input' }, selector: param.labelSelector('scope', 'Pods') })
    .param(param.stringList('caps', 'Capabilities'))
    .rule(
      rule(head('GEN-UP-001')).check(
        'nested',
        pod.field('a'),
        any(not(someItem(pod.ref('list'), all(not(inParamList(item, 'caps', { transform: 'upper' })))))),
        'nested',
      ),
    )
    .rule(rule(head('GEN-RAW-001')).check('raw', pod.items('b'), not(inParamList(item, 'caps')), 'raw'))
    .toIR(),
);
const genText = (caps: string, actions: string) => `scope: {matchLabels: {}}\ncaps: ${caps}\nactions: ${actions}\n`;

test('generic: readers are found through nested conditions; one rule still on is enough', () => {
  accepts(genText('[net_admin]', '{GEN-UP-001: "off"}'), generic);
  accepts(genText('[net_admin]', '{GEN-RAW-001: "off"}'), generic);
  const errors = errorsOf(genText('[net_admin]', '{GEN-UP-001: "off", GEN-RAW-001: "off"}'), generic);
  assert.equal(
    errors.map((e) => [e.code, e.line, e.message]),
    [['params-contradictory', 2, 'caps approves net_admin, but every rule reading it is off (GEN-UP-001, GEN-RAW-001)']],
    show(errors),
  );
});

test("generic: the collision names the rule whose transform merges the entries", () => {
  const errors = errorsOf(genText('[net_admin, NET_ADMIN]', '{}'), generic);
  assert.equal(
    errors.map((e) => [e.code, e.line, e.message]),
    [['params-duplicate', 2, 'caps lists net_admin and NET_ADMIN, which GEN-UP-001 compares as one (NET_ADMIN after the upper transform); keep one']],
    show(errors),
  );
});

test('generic: a label selector with another name is checked as well', () => {
  const errors = errorsOf('scope:\n  matchLabels:\n    "a b": c\ncaps: []\nactions: {}\n', generic);
  assert.equal(errors.map((e) => [e.code, e.line, e.path]), [['params-invalid', 3, 'scope.matchLabels.a b']], show(errors));
});

test.run();
