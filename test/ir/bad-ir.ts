// Rule sets with known defects, shared by test/ir/validate.test.ts and validate.pending.ts.

import {
  container,
  equals,
  inParamList,
  item,
  namespaceApproved,
  param,
  pod,
  present,
  regex,
  rule,
  ruleSet,
  type RuleHead,
} from '../../src/dsl/index.ts';
import type { RuleSet } from '../../src/ir/types.ts';

export const head = (id: string, level: 'pod' | 'container' = 'pod'): RuleHead => ({
  id,
  title: `${id} title`,
  description: `${id} description`,
  action: 'deny',
  level,
  fix: `${id} fix`,
});

export const base = () =>
  ruleSet({
    name: 'bad',
    title: 'Bad rule set',
    version: '1.0.0',
    inputRule: { id: 'BAD-INPUT-001', title: 'Input' },
    selector: param.labelSelector('selector', 'Pods in scope'),
  }).param(param.stringList('names', 'A string list'));

export const ok = (id: string) => rule(head(id)).check('fine', pod.field('hostNetwork'), equals(item, true), 'fine');

/** One defect per rule, each at a known rule index. */
export const semanticDefects = [
  // rules[0] is fine and rules[1] is the first use of BAD-DUP-001: the second use is the offending one.
  { index: 2, ruleId: 'BAD-DUP-001', code: 'duplicate-rule-id', checkId: undefined },
  { index: 3, ruleId: 'BAD-CHK-001', code: 'duplicate-check-id', checkId: 'twice' },
  { index: 4, ruleId: 'BAD-PAR-001', code: 'unknown-param', checkId: 'unknown' },
  { index: 5, ruleId: 'BAD-PAR-002', code: 'param-type', checkId: 'wrong-type' },
  { index: 6, ruleId: 'BAD-REX-001', code: 'bad-regex', checkId: 'regex' },
  { index: 7, ruleId: 'BAD-REF-001', code: 'ref-out-of-context', checkId: 'container-ref' },
] as const;

/** A rule set with six independent semantic defects (and no schema error). */
export function semanticallyBad(): RuleSet {
  return base()
    .rule(ok('BAD-OK-001'))
    .rule(ok('BAD-DUP-001'))
    .rule(ok('BAD-DUP-001'))
    .rule(
      rule(head('BAD-CHK-001'))
        .check('twice', pod.field('a'), equals(item, true), 'first')
        .check('twice', pod.field('b'), equals(item, true), 'second'),
    )
    .rule(rule(head('BAD-PAR-001')).check('unknown', pod.field('a'), inParamList(item, 'notDeclared'), 'unknown parameter'))
    // `names` is a stringList; namespaceApproved needs a namespaceApproval parameter.
    .rule(rule(head('BAD-PAR-002')).check('wrong-type', pod.field('a'), namespaceApproved('names'), 'wrong parameter type'))
    .rule(rule(head('BAD-REX-001')).check('regex', pod.field('a'), regex(item, '^([0-9]+$'), 'unbalanced parenthesis'))
    // A pod-level subject (podField) whose condition reads a container field.
    .rule(
      rule(head('BAD-REF-001', 'container')).check(
        'container-ref',
        pod.field('a'),
        present(container.ref('securityContext', 'privileged')),
        'container ref in a pod subject',
      ),
    )
    .toIR();
}

