// The DSL's builders: every method returns a new builder and never changes the one it was
// called on; toIR() is the one exit and produces the IR the DSL documents.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  all,
  container,
  equals,
  hasType,
  item,
  not,
  oneOf,
  param,
  patterns,
  pod,
  rule,
  ruleSet,
  type RuleHead,
} from '../../src/dsl/index.ts';
import type { RuleSet } from '../../src/ir/types.ts';
import { validateRuleSet } from '../../src/ir/validate.ts';

const podHead: RuleHead = {
  id: 'T-POD-001',
  title: 'Pod title',
  description: 'Pod description',
  action: 'deny',
  level: 'pod',
  fix: 'Pod fix',
};
const ctrHead: RuleHead = {
  id: 'T-CTR-001',
  title: 'Container title',
  description: 'Container description',
  action: 'warn',
  level: 'container',
  fix: 'Container fix',
};
const setHead = {
  name: 'tiny',
  title: 'Tiny rule set',
  version: '1.2.3',
  inputRule: { id: 'T-INPUT-001', title: 'Input readable' },
  selector: param.labelSelector('selector', 'Pods in scope'),
};

/** A deep copy, so later comparisons see the value as it was, not a shared reference. */
const snapshot = (ir: RuleSet): unknown => JSON.parse(JSON.stringify(ir));

test('RuleBuilder.check returns a new builder and leaves the original unchanged', () => {
  const r0 = rule(podHead);
  const before = JSON.stringify(r0.build());
  const r1 = r0.check('host-network', pod.field('hostNetwork'), equals(item, true), 'no host network');
  assert.is.not(r1, r0);
  assert.is(JSON.stringify(r0.build()), before);
  assert.equal(r0.build().checks, []);
  assert.is(r1.build().checks.length, 1);
});

test('RuleBuilder.typed returns a new builder and leaves the original unchanged', () => {
  const r0 = rule(podHead).check('host-network', pod.field('hostNetwork'), equals(item, true), 'no host network');
  const before = JSON.stringify(r0.build());
  const r1 = r0.typed('host-network-type', pod.field('hostNetwork'), 'boolean', 'hostNetwork must be a boolean');
  assert.is.not(r1, r0);
  assert.is(JSON.stringify(r0.build()), before);
  assert.equal(
    r1.build().checks.map((c) => c.id),
    ['host-network', 'host-network-type'],
  );
});

test('branching: two extensions of one rule builder do not see each other', () => {
  const base = rule(podHead).check('a', pod.field('a'), equals(item, true), 'a');
  const left = base.check('left', pod.field('l'), equals(item, true), 'l');
  const right = base.typed('right', pod.field('r'), 'string', 'r');
  assert.equal(
    left.build().checks.map((c) => c.id),
    ['a', 'left'],
  );
  assert.equal(
    right.build().checks.map((c) => c.id),
    ['a', 'right'],
  );
  assert.equal(
    base.build().checks.map((c) => c.id),
    ['a'],
  );
});

test('RuleSetBuilder.param returns a new builder and leaves the original toIR() unchanged', () => {
  const s0 = ruleSet(setHead).rule(rule(podHead).check('a', pod.field('a'), equals(item, true), 'a'));
  const before = snapshot(s0.toIR());
  const s1 = s0.param(param.stringList('names', 'Some names'));
  assert.is.not(s1, s0);
  assert.equal(snapshot(s0.toIR()), before);
  assert.equal(
    s0.toIR().params.map((p) => p.name),
    ['selector'],
  );
  assert.equal(
    s1.toIR().params.map((p) => p.name),
    ['selector', 'names'],
  );
});

test('RuleSetBuilder.rule returns a new builder and leaves the original toIR() unchanged', () => {
  const s0 = ruleSet(setHead).rule(rule(podHead).check('a', pod.field('a'), equals(item, true), 'a'));
  const before = snapshot(s0.toIR());
  const s1 = s0.rule(rule(ctrHead).check('b', container.field('b'), equals(item, true), 'b'));
  assert.is.not(s1, s0);
  assert.equal(snapshot(s0.toIR()), before);
  assert.equal(
    s1.toIR().rules.map((r) => r.id),
    ['T-POD-001', 'T-CTR-001'],
  );
});

test('extending a rule builder after it was added to a rule set does not change the rule set', () => {
  const r0 = rule(podHead).check('a', pod.field('a'), equals(item, true), 'a');
  const s = ruleSet(setHead).rule(r0);
  const before = snapshot(s.toIR());
  const r1 = r0.check('b', pod.field('b'), equals(item, true), 'b').typed('c', pod.field('c'), 'integer', 'c');
  assert.is(r1.build().checks.length, 3);
  assert.equal(snapshot(s.toIR()), before);
  assert.is(s.toIR().rules[0]!.checks.length, 1);
});

test('toIR() of a small rule set has the documented shape', () => {
  const ir = ruleSet(setHead)
    .param(param.stringList('names', 'Approved names'))
    .param(param.namespaceApproval('approved', 'Approved namespaces'))
    .rule(
      rule(podHead)
        .typed('host-network-type', pod.field('hostNetwork'), 'boolean', 'hostNetwork must be a boolean')
        .check('host-network', pod.field('hostNetwork'), equals(item, true), 'no host network', { at: ['x'] }),
    )
    .rule(
      rule(ctrHead).check(
        'proc-mount',
        container.field('securityContext', 'procMount'),
        all(hasType(item, 'string'), not(oneOf(item, ['Default']))),
        'procMount must be Default',
        { action: 'warn' },
      ),
    )
    .toIR();

  const expected: RuleSet = {
    name: 'tiny',
    title: 'Tiny rule set',
    version: '1.2.3',
    inputRule: { id: 'T-INPUT-001', title: 'Input readable' },
    selectorParam: 'selector',
    // Not given in the head: every pod controller.
    podControllers: ['Deployment', 'ReplicaSet', 'StatefulSet', 'DaemonSet', 'Job', 'CronJob', 'ReplicationController'],
    params: [
      // The selector first, then the declared parameters in order.
      { name: 'selector', description: 'Pods in scope', type: { kind: 'labelSelector' } },
      { name: 'names', description: 'Approved names', type: { kind: 'stringList' } },
      { name: 'approved', description: 'Approved namespaces', type: { kind: 'namespaceApproval' } },
    ],
    rules: [
      {
        ...podHead,
        checks: [
          {
            // typed(): a fixed deny when the item is not of the type.
            id: 'host-network-type',
            action: 'deny',
            subject: { kind: 'podField', path: ['hostNetwork'] },
            violation: { kind: 'not', condition: { kind: 'hasType', ref: { kind: 'item' }, type: 'boolean' } },
            message: 'hostNetwork must be a boolean',
          },
          {
            // check() without an action: the rule's action.
            id: 'host-network',
            action: 'rule',
            subject: { kind: 'podField', path: ['hostNetwork'] },
            violation: { kind: 'equals', ref: { kind: 'item' }, value: true },
            message: 'no host network',
            at: ['x'],
          },
        ],
      },
      {
        ...ctrHead,
        checks: [
          {
            id: 'proc-mount',
            action: 'warn',
            subject: { kind: 'containerField', path: ['securityContext', 'procMount'] },
            violation: {
              kind: 'all',
              conditions: [
                { kind: 'hasType', ref: { kind: 'item' }, type: 'string' },
                { kind: 'not', condition: { kind: 'oneOf', ref: { kind: 'item' }, values: ['Default'] } },
              ],
            },
            message: 'procMount must be Default',
          },
        ],
      },
    ],
  };
  assert.equal(ir, expected);
  // A check without `at` has no `at` key at all (not `at: undefined`).
  assert.not.ok('at' in ir.rules[0]!.checks[0]!);
  assert.not.ok('at' in ir.rules[1]!.checks[0]!);
  // And the shape is one the validator accepts.
  const r = validateRuleSet(ir);
  assert.ok(r.ok, r.ok ? '' : JSON.stringify(r.errors));
});

test('toIR() keeps podControllers when the head narrows them', () => {
  const ir = ruleSet({ ...setHead, podControllers: ['Deployment', 'CronJob'] })
    .rule(rule(podHead).check('a', pod.field('a'), equals(item, true), 'a'))
    .toIR();
  assert.equal(ir.podControllers, ['Deployment', 'CronJob']);
});

test('the PSS subjects: item keys of a pod list, annotations by prefix, the container itself; they validate', () => {
  assert.equal(pod.itemKeys(['volumes'], { except: ['name', 'emptyDir'] }), { kind: 'podListItemKeys', path: ['volumes'], except: ['name', 'emptyDir'] });
  assert.equal(pod.annotationsWithPrefix('example.com/'), { kind: 'annotationPrefix', prefix: 'example.com/' });
  assert.equal(container.itself(), { kind: 'containerField', path: [] });
  const ir = ruleSet(setHead)
    .rule(
      rule(podHead)
        .check('volume', pod.itemKeys(['volumes'], { except: ['name'] }), equals(item, true), 'no volume')
        .check('annotation', pod.annotationsWithPrefix('example.com/'), not(hasType(item, 'string')), 'a string'),
    )
    .rule(rule(ctrHead).check('ctr', container.itself(), not(hasType(item, 'object')), 'an object'))
    .toIR();
  assert.ok(validateRuleSet(ir).ok);
  // The list path and the prefix must not be empty.
  const bad = JSON.parse(JSON.stringify(ir)) as { rules: { checks: { subject: Record<string, unknown> }[] }[] };
  bad.rules[0]!.checks[0]!.subject['path'] = [];
  bad.rules[0]!.checks[1]!.subject['prefix'] = '';
  const r = validateRuleSet(bad);
  assert.not.ok(r.ok);
});

test("patterns('a.*', 'b'): a trailing * is a prefix, anything else exact", () => {
  assert.equal(patterns('a.*', 'b'), [
    { kind: 'prefix', value: 'a.' },
    { kind: 'exact', value: 'b' },
  ]);
});

test('patterns: only a trailing * is a wildcard', () => {
  assert.equal(patterns('a*b', '*', 'kernel.shm*', '**'), [
    { kind: 'exact', value: 'a*b' },
    { kind: 'prefix', value: '' },
    { kind: 'prefix', value: 'kernel.shm' },
    { kind: 'prefix', value: '*' },
  ]);
  assert.equal(patterns(), []);
});

test.run();
