// Regression tests for bugs found while writing the unit tests (each fixed in src/):
// 1. src/targets/rego/escape.ts, regoString: U+FEFF is left raw (JSON.stringify does not escape
//    it), and OPA's scanner rejects a byte order mark anywhere but at the start of a file
//    ("rego_parse_error: illegal byte-order mark"). A message with U+FEFF makes the Rego fail
//    `opa check` and the WASM bundle fail to build. Escaping it as \ufeff fixes both.
// 2. src/targets/kyverno/escape.ts, yamlString: U+007F (DEL), U+FFFE and U+FFFF are left raw,
//    but they are not YAML printable characters (YAML 1.2 §5.1 c-printable). The `yaml`
//    package reads them, Kyverno's Go YAML reader does not: `kyverno apply` loads no rule at all
//    from such a ClusterPolicy ("Applying 0 policy rule(s)").
// 3. src/targets/kyverno (lower.ts messageExpression, cel.ts celString): hostile text reaches
//    Kyverno unguarded.
//    a. `{{ }}` or `$( )` in a message, or in a parameter value compiled into CEL
//       (approvedHostSysctls, the selector), is read by Kyverno as a variable or a reference:
//       the whole policy is skipped ("policy contains invalid variables: variable substitution
//       failed for rule ...").
//    b. A message with a line break (LF, CRLF) or longer than 5 KiB makes messageExpression
//       invalid (Kubernetes: no line breaks, at most 5 KiB), so Kyverno reports
//       "failed expression: size(variables.violations) == 0": the message and the violation
//       paths are lost.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadWasmPolicy } from '../../src/eval/wasm.ts';
import { buildWasmBundle } from '../../src/emit/bundle.ts';
import { yamlString } from '../../src/targets/kyverno/escape.ts';
import { kyvernoMessage } from '../../src/targets/kyverno/lower.ts';
import { regoString } from '../../src/targets/rego/escape.ts';
import {
  emitAll,
  EVERYTHING,
  hasBom,
  HOSTILE,
  hostileParams,
  hostilePod,
  hostileRuleSet,
  kyvernoApply,
  type KyvernoResult,
  messageRuleId,
  NOT_APPROVED,
  ODD_SYSCTL,
  OPA,
  opaCheckStrict,
  opaReadBack,
  SYSCTL_RULE_ID,
} from './hostile.ts';

const ALL = [...HOSTILE, EVERYTHING];
const show = (s: string) => JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}…` : s);

/** The report's result for the Pod rule of an IR rule (`<rule-id>` or `<rule-id>-<suffix>`). */
function resultFor(results: ReadonlyMap<string, KyvernoResult>, ruleId: string): KyvernoResult | undefined {
  const id = ruleId.toLowerCase();
  return [...results.values()].find((r) => r.rule === id || r.rule.startsWith(`${id}-`));
}

/** A failure message that holds the message exactly, then the one path of hostNetwork. */
const reportsMessage = (r: KyvernoResult, message: string) =>
  r.result === 'fail' && r.message.includes(`: ${kyvernoMessage(message)} :: `) && r.message.endsWith(' :: ["object.spec.hostNetwork"]');

// ---- 1. U+FEFF in Rego -------------------------------------------------------------------------

const bomStrings = ALL.filter(hasBom);

test('1. opa reads back regoString literals holding U+FEFF', () => {
  const r = opaReadBack(bomStrings.map((h) => regoString(h.text)));
  assert.ok(r.ok, r.ok ? '' : r.output);
  if (r.ok) bomStrings.forEach((h, i) => assert.is(r.values[i], h.text, h.name));
});

test('1. a rule set with U+FEFF in its messages compiles to Rego that passes opa check --strict', () => {
  const rs = hostileRuleSet(bomStrings.map((h) => h.text));
  const r = opaCheckStrict(emitAll(rs, hostileParams(rs)).get('rego/policy.rego')!);
  assert.is(r.status, 0, r.output);
});

test('1. the WASM policy reports messages holding U+FEFF exactly', async () => {
  const rs = hostileRuleSet(bomStrings.map((h) => h.text));
  const params = hostileParams(rs);
  const b = buildWasmBundle(OPA, { packageName: rs.name, rego: emitAll(rs, params).get('rego/policy.rego')!, params, metadata: {} });
  assert.ok(b.ok, b.ok ? '' : JSON.stringify(b.errors));
  if (!b.ok) return;
  const policy = await loadWasmPolicy(b.value.get('policy.wasm')!, rs.name, params);
  const messages = policy
    .violations(hostilePod())
    .filter((v) => v.rule !== SYSCTL_RULE_ID)
    .map((v) => v.message)
    .sort();
  assert.equal(messages, bomStrings.map((h) => h.text).sort());
});

// ---- 2. YAML non-printable characters -----------------------------------------------------------

// YAML 1.2 c-printable: x09 | x0A | x0D | [x20-x7E] | x85 | [xA0-xD7FF] | [xE000-xFFFD] | [x10000-x10FFFF].
const C_PRINTABLE = /^[\t\n\r\u0020-\u007e\u0085\u00a0-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]*$/u;
const nonPrintable = [
  { name: 'DEL', text: 'del\u007fend' },
  { name: 'U+FFFE', text: 'nonchar\ufffeend' },
  { name: 'U+FFFF', text: 'nonchar\uffffend' },
];

for (const h of nonPrintable) {
  test(`2. yamlString writes only YAML printable characters (${h.name})`, () => {
    const lit = yamlString(h.text);
    assert.ok(C_PRINTABLE.test(lit), `${show(lit)} holds a character YAML does not allow raw`);
  });
}

test('2. Kyverno loads a ClusterPolicy whose messages hold DEL, U+FFFE and U+FFFF', () => {
  const rs = hostileRuleSet(nonPrintable.map((h) => h.text), 'plain title');
  const labels = { app: 'hostile' };
  const yaml = emitAll(rs, hostileParams(rs, [NOT_APPROVED], labels)).get('kyverno/clusterpolicy.yaml')!;
  const { results, output } = kyvernoApply(yaml, hostilePod(labels));
  nonPrintable.forEach((h, i) => {
    const r = resultFor(results, messageRuleId(i));
    assert.ok(r, `no result for ${h.name}; kyverno said:\n${output.slice(0, 2000)}`);
    assert.ok(reportsMessage(r!, h.text), `${show(h.text)} reported as ${show(r!.message)}`);
  });
});

// ---- 3. Kyverno reports the hostile messages character for character --------------------------

/** Kyverno's variable (`{{ }}`) and reference (`$( )`) syntax. */
const hasKyvernoSyntax = (s: string) => s.includes('{{') || s.includes('}}') || s.includes('$(');

// b. Messages without Kyverno syntax, plain parameters: one run, one test per message.
const plainLabels = { app: 'hostile' };
const plainMessages = ALL.filter((h) => !hasKyvernoSyntax(h.text));
const plainSet = hostileRuleSet(plainMessages.map((h) => h.text), 'plain title');
const plainRun = kyvernoApply(
  emitAll(plainSet, hostileParams(plainSet, [NOT_APPROVED], plainLabels)).get('kyverno/clusterpolicy.yaml')!,
  hostilePod(plainLabels),
);

plainMessages.forEach((h, i) => {
  test(`3b. Kyverno reports the message (one line, at most 512 characters) and its paths (${h.name})`, () => {
    const r = resultFor(plainRun.results, messageRuleId(i));
    assert.ok(r, `no result; kyverno said:\n${plainRun.output.slice(0, 2000)}`);
    assert.ok(reportsMessage(r!, h.text), `${show(h.text)} reported as ${show(r!.message)}`);
  });
});

// a. Messages with Kyverno's variable or reference syntax.
const braceMessages = ALL.filter((h) => hasKyvernoSyntax(h.text));
const braceSet = hostileRuleSet(braceMessages.map((h) => h.text), 'plain title');
const braceRun = kyvernoApply(
  emitAll(braceSet, hostileParams(braceSet, [NOT_APPROVED], plainLabels)).get('kyverno/clusterpolicy.yaml')!,
  hostilePod(plainLabels),
);

braceMessages.forEach((h, i) => {
  test(`3a. Kyverno reports a message holding {{ }} or $( ) (${h.name})`, () => {
    const r = resultFor(braceRun.results, messageRuleId(i));
    assert.ok(r, `no result; kyverno said:\n${braceRun.output.slice(0, 2000)}`);
    assert.ok(reportsMessage(r!, h.text), `${show(h.text)} reported as ${show(r!.message)}`);
  });
});

// c. Parameter values with template braces: the approved sysctl name and the selector.
const paramSet = hostileRuleSet(['plain message'], 'plain title');
const paramRun = kyvernoApply(
  emitAll(paramSet, hostileParams(paramSet)).get('kyverno/clusterpolicy.yaml')!,
  hostilePod(),
);

test('3a. Kyverno honours approvedHostSysctls and selector values holding {{ }}', () => {
  const msg = resultFor(paramRun.results, messageRuleId(0));
  assert.ok(msg, `the hostile selector must put the pod in scope; kyverno said:\n${paramRun.output.slice(0, 2000)}`);
  assert.ok(reportsMessage(msg!, 'plain message'), msg!.message);
  const sysctl = resultFor(paramRun.results, SYSCTL_RULE_ID);
  assert.ok(sysctl, paramRun.output.slice(0, 2000));
  // The message lists one path per unapproved name: only NOT_APPROVED, as ODD_SYSCTL is approved.
  assert.is(sysctl!.result, 'fail');
  const paths = JSON.parse(sysctl!.message.slice(sysctl!.message.indexOf(' :: ') + 4)) as string[];
  assert.is(paths.length, 1, `${show(ODD_SYSCTL)} is approved, ${NOT_APPROVED} is not: ${sysctl!.message}`);
});

test.run();
