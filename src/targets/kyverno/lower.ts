// IR → Kyverno ClusterPolicy template input: one Kyverno rule per IR check and kind group
// (Kyverno reports one message per rule, so a check's message lists all its offending items).
// Parameters are compiled in (a ClusterPolicy has no data document): the approval lists, the
// selector and the per-rule actions.
//
// Rules for pod controllers are written out here rather than left to Kyverno's autogen:
// autogen rewrites `object.metadata` into `object.spec.template.metadata` textually
// (pkg/autogen/v1/rule.go), and that read raises a CEL error when a template has no metadata
// (a CronJob's job template may have none), where the policy must simply find no label.
//
// Every rule's message starts with `<RULE-ID> <check-id>: <message> :: ` followed by a JSON
// array of `<path>` or `<path>@<list>[<index>]` entries: the facts the harness normalises.

import type { Action, Check, ParamValues, RuleSet } from '../../ir/types.ts';
import { CONTAINER_LISTS } from '../../ir/types.ts';
import type { PodController } from '../../ir/types.ts';
import {
  celString,
  conditionExpr,
  containersExpr,
  pathSuffix,
  safeGet,
  subjectEntries,
  usesContainers,
  type CelParams,
  type CelScope,
  type KindShape,
} from './cel.ts';

export interface KyvernoVariable {
  readonly name: string;
  readonly expression: string;
}

export interface KyvernoRule {
  readonly name: string;
  readonly kinds: readonly string[];
  /** The selector, as a CEL precondition on the pod (template) labels. */
  readonly scope: string;
  readonly ruleId: string;
  readonly failureAction: 'Enforce' | 'Audit';
  readonly variables: readonly KyvernoVariable[];
  readonly expression: string;
  readonly messageExpression: string;
}

export interface KyvernoTemplateInput {
  readonly policyName: string;
  readonly title: string;
  readonly description: string;
  readonly rules: readonly KyvernoRule[];
}

export const MESSAGE_SEPARATOR = ' :: ';
/** Facts listed per Kyverno message; beyond them the message ends with `"<n> more"`. */
export const MESSAGE_MAX_FACTS = 10;
const FACTS_VARIABLE = 'facts';
/** Kyverno rule names are at most 63 characters, and the longest kind prefix is `cronjob-`. */
export const MAX_RULE_NAME = 63 - 'cronjob-'.length;

interface KindGroup {
  readonly prefix: string;
  readonly kinds: readonly string[];
  readonly shape: KindShape;
}

/** The kind prefixes of rule names, for readers of the report. */
export const KIND_PREFIXES = ['ctrl-', 'cronjob-'] as const;

function kindGroups(controllers: readonly PodController[]): KindGroup[] {
  const shape = (path: string): KindShape => ({ spec: `object${path}.spec`, meta: `object${path}.metadata` });
  const templated = controllers.filter((k) => k !== 'CronJob');
  return [
    { prefix: '', kinds: ['Pod'], shape: shape('') },
    ...(templated.length ? [{ prefix: 'ctrl-', kinds: templated, shape: shape('.spec.template') }] : []),
    ...(controllers.includes('CronJob') ? [{ prefix: 'cronjob-', kinds: ['CronJob'], shape: shape('.spec.jobTemplate.spec.template') }] : []),
  ];
}

/** Guarded reads of the pod spec and metadata (`object.spec` may be missing on bad input). */
function baseVariables(shape: KindShape, needContainers: boolean): KyvernoVariable[] {
  const steps = (p: string) => p.split('.').slice(1);
  return [
    { name: 'pod', expression: safeGet('object', steps(shape.spec)) },
    { name: 'meta', expression: safeGet('object', steps(shape.meta)) },
    ...(needContainers ? [{ name: 'containers', expression: containersExpr(shape) }] : []),
  ];
}

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

const jsonQuoted = (s: string) =>
  `'"' + ${s}.replace('\\\\', '\\\\\\\\').replace('"', '\\\\"').replace('\\n', '\\\\n').replace('\\r', '\\\\r').replace('\\t', '\\\\t') + '"'`;

/**
 * `<RULE-ID>: <message of each failing check>; … :: ["<entry>", …]`: the text for people, then
 * the facts as a JSON array of strings (CEL has no JSON encoder, so entries are escaped here).
 */
function messageExpression(ruleId: string, parts: readonly { variable: string; message: string }[]): string {
  const messages = `[${parts.map((p) => `size(variables.${p.variable}) > 0 ? ${celString(kyvernoMessage(p.message))} : ''`).join(', ')}].filter(m, m != '').join('; ')`;
  const facts = `variables.${FACTS_VARIABLE}`;
  // Past MESSAGE_MAX_FACTS entries the message would outgrow Kubernetes' 5 KiB (and lose every
  // fact): the first ones are listed by index (base CEL has no list slicing) and the rest counted.
  const first = `[${Array.from({ length: MESSAGE_MAX_FACTS }, (_, i) => `${facts}[${i}]`).join(', ')}]`;
  const listed = `(size(${facts}) <= ${MESSAGE_MAX_FACTS} ? ${facts} : ${first}).map(s, ${jsonQuoted('s')}).join(',')`;
  const more = `(size(${facts}) > ${MESSAGE_MAX_FACTS} ? ',"' + string(size(${facts}) - ${MESSAGE_MAX_FACTS}) + ' more"' : '')`;
  return `${celString(`${ruleId}: `)} + ${messages} + ${celString(MESSAGE_SEPARATOR)} + '[' + ${listed} + ${more} + ']'`;
}

function scopeExpression(shape: KindShape, selector: Readonly<Record<string, string>>): string {
  const keys = Object.keys(selector).sort();
  const labels = [...shape.meta.split('.').slice(1), 'labels'];
  return keys.length ? keys.map((k) => `${safeGet('object', [...labels, k])} == ${celString(selector[k]!)}`).join(' && ') : 'true';
}

/**
 * Kubernetes rejects a messageExpression result with a line break or over 5 KiB (and Kyverno then
 * reports only "failed expression"): messages go out on one line, at most 512 characters, so
 * the facts after them keep the room. Messages may differ between engines; facts may not.
 */
export function kyvernoMessage(message: string): string {
  const oneLine = message.replace(/[\r\n]+/g, ' ');
  return oneLine.length > 512 ? `${oneLine.slice(0, 511)}…` : oneLine;
}

interface CheckLowering {
  readonly variable: string;
  readonly message: string;
  readonly violations: string;
}

function lowerCheck(group: KindGroup, perContainer: boolean, check: Check, variable: string, params: CelParams): CheckLowering {
  const scope: CelScope = { item: 'e.v', ctr: 'e.x', fresh: freshNames(), shape: group.shape };
  const cond = conditionExpr(check.violation, scope, params);
  const entries = subjectEntries(check.subject, scope);
  const at = check.at ?? [];
  const mapped = at.length
    ? `.map(e, {'v': dyn(${safeGet('e.v', at)}), 'p': dyn(e.p + ${celString(pathSuffix(at))}), 'x': e.x})`
    : '';
  return { variable, message: check.message, violations: `${entries}.filter(e, ${cond})${mapped}.map(e, ${entryString('e', perContainer)})` };
}

/**
 * One Kyverno rule per IR rule and action, per kind group: Kyverno compiles every rule's CEL for
 * every resource, so fewer, larger rules are much faster than one rule per check (measured 2.4×
 * on 20 pods), while policy reports still name the rule.
 */
function ruleFor(
  group: KindGroup,
  scopeExpr: string,
  ruleId: string,
  name: string,
  action: Action,
  checks: readonly CheckLowering[],
): KyvernoRule {
  return {
    name: `${group.prefix}${name}`,
    kinds: group.kinds,
    scope: scopeExpr,
    ruleId,
    failureAction: action === 'deny' ? 'Enforce' : 'Audit',
    variables: [
      ...baseVariables(group.shape, checks.some((c) => usesContainers(c.violations))),
      ...checks.map((c) => ({ name: c.variable, expression: c.violations })),
      // Read only by the message, when the rule fails (variables are evaluated lazily).
      { name: FACTS_VARIABLE, expression: checks.map((c) => `variables.${c.variable}`).join(' + ') },
    ],
    expression: checks.map((c) => `size(variables.${c.variable}) == 0`).join(' && '),
    messageExpression: messageExpression(ruleId, checks),
  };
}

/** The input rule's checks that apply to admitted objects: pod spec, container lists, containers. */
function inputRule(rs: RuleSet, group: KindGroup, scopeExpr: string): KyvernoRule {
  const lists = `[${CONTAINER_LISTS.map(celString).join(', ')}]`;
  const spec = celString(group.shape.spec);
  const checks: CheckLowering[] = [
    { variable: 'podSpec', message: 'pod spec must be an object', violations: `type(variables.pod) == map ? [] : [${spec}]` },
    {
      variable: 'containerLists',
      message: 'container list must be a list',
      violations: `type(variables.pod) == map ? ${lists}.filter(l, l in variables.pod && variables.pod[l] != null && type(variables.pod[l]) != list).map(l, ${spec} + '.' + l) : []`,
    },
    {
      variable: 'containerEntries',
      message: 'container must be an object',
      violations: `type(variables.pod) == map ? ${lists}.filter(l, l in variables.pod && type(variables.pod[l]) == list).map(l, variables.pod[l].transformList(i, c, type(c) == map ? '' : ${spec} + '.' + l + '[' + string(i) + ']').filter(p, p != '')).flatten() : []`,
    },
  ];
  return ruleFor(group, scopeExpr, rs.inputRule.id, rs.inputRule.id.toLowerCase(), 'deny', checks);
}

export function lowerRuleSet(rs: RuleSet, params: ParamValues): KyvernoTemplateInput {
  const cel = celParams(params);
  const rules: KyvernoRule[] = [];
  const selector = (params[rs.selectorParam] as { matchLabels?: Record<string, string> } | undefined)?.matchLabels ?? {};
  for (const group of kindGroups(rs.podControllers)) {
    const scope = scopeExpression(group.shape, selector);
    rules.push(inputRule(rs, group, scope));
    for (const rule of rs.rules) {
      const setting = params.actions[rule.id] ?? rule.action;
      if (setting === 'off') continue;
      const byAction = new Map<Action, CheckLowering[]>();
      rule.checks.forEach((check, i) => {
        const action: Action = check.action === 'rule' ? setting : check.action;
        const lowered = lowerCheck(group, rule.level === 'container', check, `c${i}`, cel);
        byAction.set(action, [...(byAction.get(action) ?? []), lowered]);
      });
      // The rule's own action keeps the plain name; the other action gets a suffix.
      for (const action of [setting, setting === 'deny' ? 'warn' : 'deny'] as const) {
        const checks = byAction.get(action);
        if (!checks) continue;
        const name = action === setting ? rule.id.toLowerCase() : `${rule.id.toLowerCase()}-${action}`;
        rules.push(ruleFor(group, scope, rule.id, name, action, checks));
      }
    }
  }
  return {
    policyName: rs.name.replace(/_/g, '-'),
    title: rs.title,
    description: `${rs.title} (${rs.rules.map((r) => r.id).join(', ')}). Generated by eci-policy.`,
    rules,
  };
}
