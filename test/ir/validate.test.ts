// IR validation: every error is collected in one pass, each with a code and a path naming the
// rule (and check) it is about; a valid IR (spec/eci.ts) passes unchanged.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inParamList, item, pod, regex, rule } from '../../src/dsl/index.ts';
import type { Diagnostic } from '../../src/ir/diagnostics.ts';
import { validateRuleSet } from '../../src/ir/validate.ts';
import eci from '../../spec/eci.ts';
import { base, head, ok, semanticDefects, semanticallyBad } from './bad-ir.ts';

const show = (errors: readonly Diagnostic[]) => errors.map((e) => `${e.code} @ ${e.path}: ${e.message}`).join('\n');

/** The diagnostic's path starts at the rule, named by index and ID: `rules[3] (ID)`. */
const rulePrefix = (index: number, ruleId: string) => `rules[${index}] (${ruleId})`;

test('every semantic error is reported in one pass, each naming its rule', () => {
  const r = validateRuleSet(semanticallyBad(), 'spec/bad.ts');
  assert.not.ok(r.ok, 'a rule set with six defects must not validate');
  if (r.ok) return;
  const expected = semanticDefects;
  assert.is(r.errors.length, expected.length, `expected one error per defect, got:\n${show(r.errors)}`);
  for (const d of expected) {
    const prefix = rulePrefix(d.index, d.ruleId);
    const matching = r.errors.filter((e) => e.code === d.code && e.path?.startsWith(prefix));
    assert.is(matching.length, 1, `${d.code} at ${prefix}; got:\n${show(r.errors)}`);
    const e = matching[0]!;
    if (d.checkId) assert.ok(e.path!.includes(`(${d.checkId})`), `${e.path} names check ${d.checkId}`);
    assert.is(e.file, 'spec/bad.ts');
    assert.ok(e.message.length > 0);
  }
});

test('duplicate rule ID: the message names the first use', () => {
  const r = validateRuleSet(semanticallyBad());
  assert.not.ok(r.ok);
  if (r.ok) return;
  const dup = r.errors.find((e) => e.code === 'duplicate-rule-id')!;
  assert.ok(dup.message.includes('BAD-DUP-001'), dup.message);
  assert.ok(dup.message.includes('rules[1]'), dup.message);
});

test('error details: the unknown and mistyped parameters are named', () => {
  const r = validateRuleSet(semanticallyBad());
  assert.not.ok(r.ok);
  if (r.ok) return;
  const unknown = r.errors.find((e) => e.code === 'unknown-param')!;
  assert.ok(unknown.message.includes('notDeclared'), unknown.message);
  assert.ok(unknown.path!.endsWith('.violation.param'), unknown.path);
  const wrongType = r.errors.find((e) => e.code === 'param-type')!;
  assert.ok(wrongType.message.includes('names'), wrongType.message);
  assert.ok(wrongType.message.includes('stringList') && wrongType.message.includes('namespaceApproval'), wrongType.message);
  const rex = r.errors.find((e) => e.code === 'bad-regex')!;
  assert.ok(rex.message.includes('^([0-9]+$'), rex.message);
  assert.ok(rex.path!.endsWith('.violation.pattern'), rex.path);
  const ref = r.errors.find((e) => e.code === 'ref-out-of-context')!;
  assert.ok(ref.path!.endsWith('.violation.ref'), ref.path);
});

test('the input rule ID cannot be reused by a rule', () => {
  const ir = base().rule(ok('BAD-OK-001')).rule(ok('BAD-INPUT-001')).toIR();
  const r = validateRuleSet(ir);
  assert.not.ok(r.ok);
  if (r.ok) return;
  assert.equal(
    r.errors.map((e) => [e.code, e.path]),
    [['duplicate-rule-id', 'rules[1] (BAD-INPUT-001)']],
  );
});

test('errors nested in all/any/not/someItem are found and located', () => {
  const ir = base()
    .rule(
      rule(head('BAD-NEST-001')).check(
        'nested',
        pod.field('a'),
        {
          kind: 'all',
          conditions: [
            { kind: 'present', ref: { kind: 'item' } },
            { kind: 'not', condition: { kind: 'any', conditions: [regex(item, '[a-'), inParamList(item, 'nope')] } },
          ],
        },
        'nested',
      ),
    )
    .toIR();
  const r = validateRuleSet(ir);
  assert.not.ok(r.ok);
  if (r.ok) return;
  const at = 'rules[0] (BAD-NEST-001).checks[0] (nested).violation.conditions[1].condition.conditions';
  assert.equal(
    r.errors.map((e) => [e.code, e.path]).sort(),
    [
      ['bad-regex', `${at}[0].pattern`],
      ['unknown-param', `${at}[1].param`],
    ],
  );
});

test('schema errors: all are collected, each path naming the rule ID', () => {
  const good = base().rule(ok('BAD-OK-001')).rule(ok('BAD-OK-002')).rule(ok('BAD-OK-003')).toIR();
  const ir = JSON.parse(JSON.stringify(good)) as { rules: Record<string, unknown>[] };
  ir.rules[0]!['id'] = 'bad id';
  ir.rules[1]!['action'] = 'block';
  (ir.rules[2]!['checks'] as Record<string, unknown>[])[0]!['id'] = 'Not_A_Check_Id';
  const r = validateRuleSet(ir);
  assert.not.ok(r.ok);
  if (r.ok) return;
  assert.ok(r.errors.every((e) => e.code === 'ir-schema'), show(r.errors));
  const paths = r.errors.map((e) => e.path);
  assert.ok(paths.includes('rules[0] (bad id).id'), show(r.errors));
  assert.ok(paths.includes('rules[1] (BAD-OK-002).action'), show(r.errors));
  assert.ok(paths.includes('rules[2] (BAD-OK-003).checks[0] (Not_A_Check_Id).id'), show(r.errors));
  assert.is(r.errors.length, 3, show(r.errors));
});

test('schema: a non-object and a rule set without rules are rejected, not thrown on', () => {
  for (const bad of [null, 42, 'rules', [], {}]) {
    const r = validateRuleSet(bad);
    assert.not.ok(r.ok, JSON.stringify(bad));
    if (!r.ok) assert.ok(r.errors.length > 0 && r.errors.every((e) => e.code === 'ir-schema'));
  }
  const empty = { ...base().rule(ok('BAD-OK-001')).toIR(), rules: [] };
  const r = validateRuleSet(empty);
  assert.not.ok(r.ok);
  if (!r.ok) assert.equal(r.errors.map((e) => e.path), ['rules']);
});

test('spec/eci.ts toIR() validates, and the value is the input', () => {
  const ir = eci.toIR();
  const r = validateRuleSet(ir, 'spec/eci.ts');
  assert.ok(r.ok, r.ok ? '' : show(r.errors));
  if (r.ok) assert.equal(r.value, ir);
});

test('a valid tiny rule set validates', () => {
  const r = validateRuleSet(base().rule(ok('BAD-OK-001')).toIR());
  assert.ok(r.ok, r.ok ? '' : show(r.errors));
});

test.run();
