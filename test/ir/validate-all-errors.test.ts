// Regression tests for bugs found while writing the unit tests (each fixed in src/):
// 1. validateRuleSet returns the schema errors alone when the IR has any: the semantic errors
//    of the same IR (duplicate IDs, parameters, regexes, refs) are not reported in that pass,
//    although the module promises "Every error is collected with its path; nothing stops at
//    the first." A spec author fixes a typo and only then learns about the other five errors.
// 2. checkRegex compiles patterns with JavaScript's RegExp, but the IR's regexes are RE2
//    (src/ir/types.ts: "A string matching a (RE2) regular expression"; OPA and CEL use RE2).
//    Lookahead and backreferences pass validation and the build, then OPA fails at evaluation
//    (`opa eval 'regex.match("(?=a)b", "ab")'` → "invalid or unsupported Perl syntax: `(?=`")
//    while opa-wasm (JavaScript regexes) evaluates them: the engines disagree.
// 3. The rule set name becomes the Rego package (`package <name>`, `data.<name>.params`), but
//    the schema (`^[a-z][a-z0-9_]*$`) accepts Rego keywords: a rule set named `if`, `in`,
//    `contains`, `every`, `some`, `not`, `package`, `import`, `default`, `true`, `null`,
//    `with`, `as` or `else` validates and emits, then fails at the last stage: `opa build`
//    with the SDK's capabilities reports "rego_parse_error: unexpected if keyword" (and the
//    build's diagnostic does not even say so: see test/emit/bundle.pending.ts).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { item, pod, regex, rule } from '../../src/dsl/index.ts';
import type { Diagnostic } from '../../src/ir/diagnostics.ts';
import { validateRuleSet } from '../../src/ir/validate.ts';
import { base, head, ok, semanticDefects, semanticallyBad } from './bad-ir.ts';

const show = (errors: readonly Diagnostic[]) => errors.map((e) => `${e.code} @ ${e.path}: ${e.message}`).join('\n');

test('a schema violation does not hide the semantic errors: all seven are reported in one pass', () => {
  const ir = JSON.parse(JSON.stringify(semanticallyBad())) as { rules: Record<string, unknown>[] };
  // rules[0] (BAD-OK-001) gets an ID the schema rejects; the six semantic defects stay.
  ir.rules[0]!['id'] = 'bad id';
  const r = validateRuleSet(ir);
  assert.not.ok(r.ok);
  if (r.ok) return;
  const schema = r.errors.filter((e) => e.code === 'ir-schema');
  assert.is(schema.length, 1, show(r.errors));
  assert.is(schema[0]!.path, 'rules[0] (bad id).id');
  for (const d of semanticDefects) {
    const prefix = `rules[${d.index}] (${d.ruleId})`;
    assert.ok(
      r.errors.some((e) => e.code === d.code && e.path?.startsWith(prefix)),
      `expected ${d.code} at ${prefix} in the same pass; got:\n${show(r.errors)}`,
    );
  }
});

for (const [name, pattern] of [
  ['lookahead', '(?=a)b'],
  ['negative lookahead', '^(?!kube-)'],
  ['backreference', '^(a)\\1$'],
  ['lookbehind', '(?<=a)b'],
] as const) {
  test(`a regex RE2 cannot compile is a bad-regex (${name}: ${pattern})`, () => {
    const ir = base()
      .rule(ok('BAD-OK-001'))
      .rule(rule(head('BAD-REX-002')).check('re2', pod.field('hostname'), regex(item, pattern), 'not RE2'))
      .toIR();
    const r = validateRuleSet(ir);
    assert.not.ok(r.ok, `${pattern} is not RE2 syntax, but validateRuleSet accepted it`);
    if (r.ok) return;
    assert.equal(
      r.errors.map((e) => [e.code, e.path]),
      [['bad-regex', 'rules[1] (BAD-REX-002).checks[0] (re2).violation.pattern']],
    );
  });
}

for (const name of ['if', 'in', 'contains', 'every', 'some', 'not', 'package', 'import', 'default', 'true', 'null', 'with', 'as', 'else']) {
  test(`a rule set named after the Rego keyword ${name} is rejected`, () => {
    const ir = { ...base().rule(ok('BAD-OK-001')).toIR(), name };
    const r = validateRuleSet(ir);
    assert.not.ok(r.ok, `rule set name ${name} is a Rego keyword, but validateRuleSet accepted it`);
  });
}

test('control: an ordinary rule set name is accepted', () => {
  const r = validateRuleSet({ ...base().rule(ok('BAD-OK-001')).toIR(), name: 'if_not_keyword' });
  assert.ok(r.ok, r.ok ? '' : show(r.errors));
});

test.run();
