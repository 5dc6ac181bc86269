// Hostile text through every target: rule set and rule titles, descriptions, fixes, messages,
// and parameter values full of quotes, backslashes, line breaks, template braces and Unicode.
// The Rego must pass `opa check --strict`, the ClusterPolicy must parse back to exactly the
// original strings, and the WASM policy must report the messages and honour the values as
// written. Strings with U+FEFF are left out of the Rego messages here: OPA rejects them (a bug,
// see test/targets/escape.pending.ts).

import { parse, parseAllDocuments } from 'yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadWasmPolicy } from '../../src/eval/wasm.ts';
import { yamlString, yamlText } from '../../src/targets/kyverno/escape.ts';
import { kyvernoMessage } from '../../src/targets/kyverno/lower.ts';
import { regoString } from '../../src/targets/rego/escape.ts';
import {
  APPROVED,
  carriesMessage,
  celStringLiterals,
  CONTROLS,
  emitAll,
  EVERYTHING,
  hasBom,
  HOSTILE,
  hostileParams,
  hostilePod,
  hostileRuleSet,
  type KyvernoPolicy,
  LABEL_KEY,
  LABEL_VALUE,
  LONE_SURROGATES,
  messageRuleId,
  NOT_APPROVED,
  ODD_SYSCTL,
  opaCheckStrict,
  opaReadBack,
  podRulesFor,
  SYSCTL_RULE_ID,
  wasmBundle,
} from './hostile.ts';

const ALL = [...HOSTILE, EVERYTHING];
const show = (s: string) => JSON.stringify(s.length > 120 ? `${s.slice(0, 120)}…` : s);

// ---- the escapers, alone --------------------------------------------------------------------

for (const h of [...ALL, ...LONE_SURROGATES, ...CONTROLS]) {
  test(`regoString round-trips through JSON (${h.name})`, () => {
    const lit = regoString(h.text);
    assert.is(JSON.parse(lit), h.text);
    // One line, no raw control characters: a Rego string literal cannot span lines.
    assert.not.ok(/[\u0000-\u001f]/.test(lit), show(lit));
    assert.ok(lit.startsWith('"') && lit.endsWith('"'));
  });

  test(`yamlString round-trips through YAML (${h.name})`, () => {
    const lit = yamlString(h.text);
    assert.is(parse(lit), h.text);
    assert.equal(parse(`key: ${lit}\nnext: 1\n`), { key: h.text, next: 1 });
    assert.equal(parse(`- ${lit}\n- ${lit}\n`), [h.text, h.text]);
    const docs = parseAllDocuments(`a:\n  b: ${lit}\n`);
    assert.is(docs.length, 1);
    assert.equal(docs[0]!.errors, []);
    assert.equal(docs[0]!.warnings, []);
    // No raw line break of any kind (YAML folds them) and no raw byte order mark.
    assert.not.ok(/[\n\r\u0085\u2028\u2029\ufeff]/.test(lit), show(lit));
  });

  test(`yamlText round-trips a multi-line text through YAML (${h.name})`, () => {
    // As a Rego block in a ConstraintTemplate: lines, tabs, the text first, last and alone.
    for (const text of [`package p\n\t${h.text}\n`, `${h.text}\nnext line\n\n# end\n`, h.text, `${h.text}\n\n`]) {
      const value = yamlText(text, 6);
      const doc = `spec:\n  source:\n    rego: ${value}\n    version: v1\n`;
      const docs = parseAllDocuments(doc);
      assert.equal(docs[0]!.errors, [], show(doc));
      assert.equal(docs[0]!.toJS(), { spec: { source: { rego: text, version: 'v1' } } }, show(value));
    }
  });
}

test('yamlText writes a literal block where it can', () => {
  assert.is(yamlText('package p\n\nx := 1\n', 4), '|\n    package p\n\n    x := 1');
  assert.is(yamlText('a\nb', 2), '|-\n  a\n  b');
  // A leading space would be read as the block's indentation: quoted instead.
  assert.is(yamlText(' a\n', 2), '" a\\n"');
});

test('the 10,000-character string is 10,000 characters', () => {
  const long = HOSTILE.find((h) => h.name === '10,000 characters')!.text;
  assert.is([...long].length, 10_000);
  assert.is(long.length, 10_000);
});

// ---- Rego: opa reads every literal back ------------------------------------------------------

test('opa reads back each regoString literal as the original string', () => {
  const strings = [...ALL, ...CONTROLS].filter((h) => !hasBom(h));
  const r = opaReadBack(strings.map((h) => regoString(h.text)));
  assert.ok(r.ok, r.ok ? '' : r.output);
  if (!r.ok) return;
  strings.forEach((h, i) => assert.is(r.values[i], h.text, h.name));
});

// ---- the hostile rule set through the targets ------------------------------------------------

// Messages for the Rego and WASM tests: every hostile string but those with U+FEFF.
const regoMessages = [...ALL.filter((h) => !hasBom(h)), { name: 'everything but U+FEFF', text: ALL.filter((h) => !hasBom(h)).map((h) => h.text).join(' | ') }];
const regoSet = hostileRuleSet(regoMessages.map((h) => h.text));
const regoParams = hostileParams(regoSet);
const regoFiles = emitAll(regoSet, regoParams);
const rego = regoFiles.get('rego/policy.rego')!;

// Every hostile string, as messages and everywhere else, for the Kyverno output.
const fullSet = hostileRuleSet(ALL.map((h) => h.text));
const fullParams = hostileParams(fullSet);
const clusterPolicy = emitAll(fullSet, fullParams).get('kyverno/clusterpolicy.yaml')!;

test('Rego: the hostile policy passes opa check --strict', () => {
  const r = opaCheckStrict(rego);
  assert.is(r.status, 0, r.output);
});

test('Kyverno: the ClusterPolicy is exactly one YAML document, without errors or warnings', () => {
  const docs = parseAllDocuments(clusterPolicy, { uniqueKeys: true });
  assert.is(docs.length, 1);
  assert.equal(docs[0]!.errors, []);
  assert.equal(docs[0]!.warnings, []);
  const policy = docs[0]!.toJS() as KyvernoPolicy;
  assert.is(policy.kind, 'ClusterPolicy');
});

const policy = parse(clusterPolicy) as KyvernoPolicy;

test('Kyverno: the title annotations are the original text', () => {
  assert.is(policy.metadata.annotations['policies.kyverno.io/title'], EVERYTHING.text);
  assert.ok(policy.metadata.annotations['policies.kyverno.io/description']!.startsWith(EVERYTHING.text));
});

test('CEL string literal extraction (a test helper) reads double- and single-quoted literals', () => {
  assert.equal(celStringLiterals(`"a \\"b\\"" + '"' + x.replace('\\\\', '\\\\\\\\') + "c\\\\d" + '[' + "\\u2028" + 'it\\'s'`), [
    'a "b"',
    '"',
    '\\',
    '\\\\',
    'c\\d',
    '[',
    '\u2028',
    "it's",
  ]);
});

ALL.forEach((h, i) => {
  // Kubernetes rejects a messageExpression result with a line break or over 5 KiB, so the
  // Kyverno target writes messages on one line and at most 512 characters (kyvernoMessage).
  test(`Kyverno: messageExpression carries the message as Kyverno can report it (${h.name})`, () => {
    const rules = podRulesFor(policy, messageRuleId(i));
    assert.ok(rules.length > 0, `a Pod rule for ${messageRuleId(i)}`);
    for (const r of rules) {
      const exprs = r.validate.cel.expressions;
      assert.is(exprs.length, 1);
      const literals = celStringLiterals(exprs[0]!.messageExpression);
      assert.ok(carriesMessage(literals, messageRuleId(i), kyvernoMessage(h.text)), `${r.name}: ${literals.map(show).join(', ')}`);
    }
  });
});

test('Kyverno: hostile parameter values are compiled in as CEL literals of the exact values', () => {
  const sysctlRules = podRulesFor(policy, SYSCTL_RULE_ID);
  assert.ok(sysctlRules.length > 0);
  for (const r of sysctlRules) {
    const literals = r.validate.cel.variables.flatMap((v) => celStringLiterals(v.expression));
    for (const v of APPROVED) assert.ok(literals.includes(v), `approved value ${show(v)} is a CEL literal in ${r.name}`);
  }
  for (const r of policy.spec.rules) {
    const scope = celStringLiterals(r.celPreconditions?.find((p) => p.name === 'in-scope')?.expression ?? '');
    assert.ok(scope.includes(LABEL_KEY) && scope.includes(LABEL_VALUE), `selector in ${r.name}: ${scope.map(show).join(', ')}`);
  }
});

// ---- WASM: the compiled policy reports the messages exactly and honours the values -----------

const bundle = wasmBundle(regoSet, regoParams, rego);
const policyWasm = await loadWasmPolicy(bundle.get('policy.wasm')!, regoSet.name, regoParams);

test('WASM: the bundle carries the parameters unchanged', () => {
  const data = JSON.parse(Buffer.from(bundle.get('data.json')!).toString('utf8')) as Record<string, { params: unknown }>;
  assert.equal(data['hostile']?.params, regoParams);
});

test('WASM: every hostile message is reported exactly as written', () => {
  policyWasm.setParams(regoParams);
  const reported = policyWasm.violations(hostilePod()).filter((v) => v.rule !== SYSCTL_RULE_ID);
  assert.is(reported.length, regoMessages.length);
  regoMessages.forEach((h, i) => {
    const mine = reported.filter((v) => v.rule === messageRuleId(i));
    assert.is(mine.length, 1, `${messageRuleId(i)} reported once`);
    assert.ok(mine[0]!.message === h.text, `message ${h.name}: ${show(h.text)} reported as ${show(mine[0]!.message)}`);
  });
});

test('WASM: an approved sysctl name with odd characters is honoured, others are not', () => {
  policyWasm.setParams(regoParams);
  const reported = policyWasm.violations(hostilePod()).filter((v) => v.rule === SYSCTL_RULE_ID);
  assert.equal(
    reported.map((v) => v.value),
    [NOT_APPROVED],
  );
  // Without the approval, the odd name is reported too, character for character.
  policyWasm.setParams(hostileParams(regoSet, APPROVED.filter((a) => a !== ODD_SYSCTL)));
  const unapproved = policyWasm.violations(hostilePod()).filter((v) => v.rule === SYSCTL_RULE_ID);
  assert.equal(unapproved.map((v) => v.value as string).sort(), [NOT_APPROVED, ODD_SYSCTL].sort());
});

test('WASM: the hostile selector label selects exactly the pods that carry it', () => {
  policyWasm.setParams(regoParams);
  const inScope = policyWasm.violations(hostilePod());
  assert.ok(inScope.some((v) => v.rule === messageRuleId(0)));
  // The same label without its U+2028, and the value under another key: not in scope.
  const others: Record<string, string>[] = [{ [LABEL_KEY]: LABEL_VALUE.replace('\u2028', '') }, { other: LABEL_VALUE }, {}];
  for (const labels of others) {
    const outOfScope = policyWasm.violations(hostilePod(labels));
    assert.equal(
      outOfScope.filter((v) => v.rule.startsWith('X-MSG-') || v.rule === SYSCTL_RULE_ID),
      [],
      JSON.stringify(labels),
    );
  }
});

test.run();
