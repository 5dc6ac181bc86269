// IR → Kyverno ClusterPolicy template input: one Kyverno rule per IR check (Kyverno reports one
// message per rule, so a check's message lists all its offending items), written for Pods and
// auto-generated for the pod controllers. Parameters are compiled in (a ClusterPolicy has no
// data document): the approval lists, the selector and the per-rule actions.
//
// Every rule's message starts with `<RULE-ID> <check-id>: <message> :: ` followed by a JSON
// array of `<path>` or `<path>@<list>[<index>]` entries: the facts the harness normalises.

import type { Action, Check, ParamValues, RuleSet } from '../../ir/types.ts';
import { CONTAINER_LISTS } from '../../ir/types.ts';
import { celString, conditionExpr, containersExpr, pathSuffix, safeGet, subjectEntries, type CelParams, type CelScope } from './cel.ts';

export interface KyvernoVariable {
  readonly name: string;
  readonly expression: string;
}

export interface KyvernoRule {
  readonly name: string;
  readonly ruleId: string;
  readonly checkId: string;
  readonly failureAction: 'Enforce' | 'Audit';
  readonly variables: readonly KyvernoVariable[];
  readonly expression: string;
  readonly messageExpression: string;
}

export interface KyvernoTemplateInput {
  readonly policyName: string;
  readonly title: string;
  readonly description: string;
  readonly autogenControllers: string;
  readonly scopeExpression: string;
  readonly rules: readonly KyvernoRule[];
}

export const MESSAGE_SEPARATOR = ' :: ';
/** Kyverno rule names are at most 63 characters; autogen prefixes `autogen-cronjob-` (16). */
export const MAX_RULE_NAME = 63 - 'autogen-cronjob-'.length;

export const kyvernoRuleName = (ruleId: string, checkId: string): string => `${ruleId.toLowerCase()}-${checkId}`;

function freshNames(): () => string {
  let n = 0;
  return () => `t${n++}`;
}

function celParams(params: ParamValues): CelParams {
  return {
    list: (name) => (Array.isArray(params[name]) ? (params[name] as string[]) : []),
    namespaces: (name) => (Array.isArray(params[name]) ? (params[name] as string[]) : []),
  };
}

/** Per-container rules name the container (`@<list>[<index>]`); pod-level rules do not. */
const entryString = (e: string, perContainer: boolean) =>
  perContainer ? `${e}.p + (${e}.x != null ? '@' + string(${e}.x.list) + '[' + string(${e}.x.index) + ']' : '')` : `${e}.p`;

function messageExpression(prefix: string): string {
  const escaped = `s.replace('\\\\', '\\\\\\\\').replace('"', '\\\\"').replace('\\n', '\\\\n').replace('\\r', '\\\\r').replace('\\t', '\\\\t')`;
  return `${celString(prefix)} + '[' + variables.violations.map(s, '"' + ${escaped} + '"').join(',') + ']'`;
}

const baseVariables: readonly KyvernoVariable[] = [
  { name: 'pod', expression: 'object.spec' },
  { name: 'meta', expression: 'object.metadata' },
  { name: 'containers', expression: containersExpr() },
];

function checkRule(ruleId: string, perContainer: boolean, check: Check, action: Action, params: CelParams): KyvernoRule {
  const scope: CelScope = { item: 'e.v', ctr: 'e.x', fresh: freshNames() };
  const cond = conditionExpr(check.violation, scope, params);
  const entries = subjectEntries(check.subject, scope);
  const at = check.at ?? [];
  const mapped = at.length
    ? `.map(e, {'v': dyn(${safeGet('e.v', at)}), 'p': dyn(e.p + ${celString(pathSuffix(at))}), 'x': e.x})`
    : '';
  return {
    name: kyvernoRuleName(ruleId, check.id),
    ruleId,
    checkId: check.id,
    failureAction: action === 'deny' ? 'Enforce' : 'Audit',
    variables: [
      ...baseVariables,
      { name: 'violations', expression: `${entries}.filter(e, ${cond})${mapped}.map(e, ${entryString('e', perContainer)})` },
    ],
    expression: 'size(variables.violations) == 0',
    messageExpression: messageExpression(`${ruleId} ${check.id}: ${check.message}${MESSAGE_SEPARATOR}`),
  };
}

/** The input rule's checks that apply to admitted objects: container lists and containers. */
function inputRules(rs: RuleSet): KyvernoRule[] {
  const lists = `[${CONTAINER_LISTS.map(celString).join(', ')}]`;
  const make = (checkId: string, message: string, violations: string): KyvernoRule => ({
    name: kyvernoRuleName(rs.inputRule.id, checkId),
    ruleId: rs.inputRule.id,
    checkId,
    failureAction: 'Enforce',
    variables: [...baseVariables.slice(0, 2), { name: 'violations', expression: violations }],
    expression: 'size(variables.violations) == 0',
    messageExpression: messageExpression(`${rs.inputRule.id} ${checkId}: ${message}${MESSAGE_SEPARATOR}`),
  });
  return [
    make('pod-spec', 'pod spec must be an object', `type(variables.pod) == map ? [] : ['object.spec']`),
    make(
      'container-list',
      'container list must be a list',
      `type(variables.pod) == map ? ${lists}.filter(l, l in variables.pod && variables.pod[l] != null && type(variables.pod[l]) != list).map(l, 'object.spec.' + l) : []`,
    ),
    make(
      'container',
      'container must be an object',
      `type(variables.pod) == map ? ${lists}.filter(l, l in variables.pod && type(variables.pod[l]) == list).map(l, variables.pod[l].transformList(i, c, type(c) == map ? '' : 'object.spec.' + l + '[' + string(i) + ']').filter(p, p != '')).flatten() : []`,
    ),
  ];
}

export function lowerRuleSet(rs: RuleSet, params: ParamValues): KyvernoTemplateInput {
  const cel = celParams(params);
  const rules: KyvernoRule[] = [...inputRules(rs)];
  for (const rule of rs.rules) {
    const setting = params.actions[rule.id] ?? rule.action;
    if (setting === 'off') continue;
    for (const check of rule.checks) {
      const action: Action = check.action === 'rule' ? setting : check.action;
      rules.push(checkRule(rule.id, rule.level === 'container', check, action, cel));
    }
  }
  const selector = (params[rs.selectorParam] as { matchLabels?: Record<string, string> } | undefined)?.matchLabels ?? {};
  const scope = Object.keys(selector).sort();
  return {
    policyName: rs.name.replace(/_/g, '-'),
    title: rs.title,
    description: `${rs.title} (${rs.rules.map((r) => r.id).join(', ')}). Generated by eci-policy.`,
    autogenControllers: rs.podControllers.join(','),
    scopeExpression: scope.length
      ? scope.map((k) => `${safeGet('object.metadata', ['labels', k])} == ${celString(selector[k]!)}`).join(' && ')
      : 'true',
    rules,
  };
}
