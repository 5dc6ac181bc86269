// IR → Kyverno ClusterPolicy template input: one Kyverno rule per IR rule and action, matching
// Pods and every pod controller (Kyverno reports one message per rule, so a rule's message lists
// the failing checks and all their offending items). Each rule's CEL comes from the shared
// lowering in src/targets/cel/; this file only lays it out as Kyverno's `validate.cel`.
// Parameters are compiled in (a ClusterPolicy has no data document): the approval lists, the
// selector and the per-rule actions.
//
// Controllers are matched by the same rule rather than left to Kyverno's autogen: autogen
// rewrites `object.metadata` into `object.spec.template.metadata` textually
// (pkg/autogen/v1/rule.go), which raises a CEL error on a template without metadata (a CronJob's
// job template may have none). The rule reads the pod template by kind instead (variable `t`).
//
// Every rule's message starts with `<RULE-ID>: <message of each failing check>; …` and ends with
// ` :: ` and a JSON array of `<path>` or `<path>@<list>[<index>]` entries: the facts the harness
// normalises.

import type { Action, Check, ParamValues, RuleSet } from '../../ir/types.ts';
import { selectorLabels } from '../../ir/params.ts';
import { celParams, celString, checkFacts, inputChecks, oneLineMessage, ruleFacts, RuleContext, selectorExpr, SPEC_NOT_MAP, type CelParams, type CelVariable, type CheckFacts, type TemplateShape } from '../cel/lower.ts';

export type KyvernoVariable = CelVariable;

export interface KyvernoRule {
  readonly name: string;
  readonly kinds: readonly string[];
  /** The selector, as a CEL precondition on the pod (template) labels; absent when it selects every pod. */
  readonly scope: string | null;
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
/** Kyverno rule names are at most 63 characters, and the longest autogen prefix is `cronjob-`. */
export const MAX_RULE_NAME = 63 - 'cronjob-'.length;


/**
 * `<RULE-ID>: <text> :: ["<entry>", …]`: the text for people, then the facts as a JSON array of
 * strings (`strings.quote` writes JSON's escapes but for \a and \v, which the harness reads too).
 * The text is the checks' message when they share one, else the rule's title: per-check texts
 * would be most of the policy's size, and the facts already name each offending field. Past
 * MESSAGE_MAX_FACTS entries the message would outgrow Kubernetes' 5 KiB (and lose every fact):
 * the first ones are listed and the rest counted.
 */
function messageExpression(ruleId: string, text: string): string {
  const f = 'variables.f';
  return `${celString(`${ruleId}: ${kyvernoMessage(text)}${MESSAGE_SEPARATOR}[`)} + ${f}.transformList(i, s, i < ${MESSAGE_MAX_FACTS}, strings.quote(s)).join(',') + (size(${f}) > ${MESSAGE_MAX_FACTS} ? ',"' + string(size(${f}) - ${MESSAGE_MAX_FACTS}) + ' more"' : '') + ']'`;
}

/** Kyverno's messages: one line, at most 512 characters (see oneLineMessage). */
export const kyvernoMessage = (message: string): string => oneLineMessage(message);

interface LoweredCheck {
  readonly message: string;
  readonly facts: (ctx: RuleContext) => CheckFacts;
}

interface RuleShape {
  readonly kinds: readonly string[];
  readonly shape: TemplateShape;
  readonly scope: string | null;
  readonly params: CelParams;
}

/** The Kyverno rule for some checks of one IR rule that share an action. */
function ruleFor(
  s: RuleShape,
  rule: { readonly id: string; readonly title: string },
  name: string,
  action: Action,
  perContainer: boolean,
  checks: readonly LoweredCheck[],
  guardSpec = true,
): KyvernoRule {
  const ctx = new RuleContext(s.shape, s.params);
  const facts = ruleFacts(
    checks.map((c) => c.facts(ctx)),
    perContainer,
  );
  const messages = new Set(checks.map((c) => c.message));
  const ruleId = rule.id;
  return {
    name,
    kinds: s.kinds,
    scope: s.scope,
    ruleId,
    failureAction: action === 'deny' ? 'Enforce' : 'Audit',
    // `f` is last: the variables it reads are collected while it is lowered.
    variables: [...ctx.variables(), { name: 'f', expression: facts }],
    expression: guardSpec ? `${SPEC_NOT_MAP} || size(variables.f) == 0` : 'size(variables.f) == 0',
    messageExpression: messageExpression(ruleId, messages.size === 1 ? checks[0]!.message : rule.title),
  };
}

/** The input rule's checks that apply to admitted objects: pod spec, container lists, containers. */
function inputRule(rs: RuleSet, s: RuleShape): KyvernoRule {
  const checks = inputChecks().map((c): LoweredCheck => ({ message: c.message, facts: () => ({ scope: 'pod', expr: c.expr }) }));
  return ruleFor(s, rs.inputRule, rs.inputRule.id.toLowerCase(), 'deny', false, checks, false);
}

export function lowerRuleSet(rs: RuleSet, params: ParamValues): KyvernoTemplateInput {
  const selector = selectorLabels(rs, params);
  const s: RuleShape = {
    kinds: ['Pod', ...rs.podControllers],
    shape: { controllers: rs.podControllers },
    scope: selectorExpr(selector, 'variables.t'),
    params: celParams(params),
  };
  const rules: KyvernoRule[] = [inputRule(rs, s)];
  for (const rule of rs.rules) {
    const setting = params.actions[rule.id] ?? rule.action;
    if (setting === 'off') continue;
    const byAction = new Map<Action, Check[]>();
    for (const check of rule.checks) {
      const action: Action = check.action === 'rule' ? setting : check.action;
      byAction.set(action, [...(byAction.get(action) ?? []), check]);
    }
    // The rule's own action keeps the plain name; the other action gets a suffix.
    for (const action of [setting, setting === 'deny' ? 'warn' : 'deny'] as const) {
      const checks = byAction.get(action);
      if (!checks) continue;
      const name = action === setting ? rule.id.toLowerCase() : `${rule.id.toLowerCase()}-${action}`;
      const lowered = checks.map((check) => ({
        message: check.message,
        facts: (ctx: RuleContext) => checkFacts(check.subject, check.violation, check.at ?? [], ctx),
      }));
      rules.push(ruleFor(s, rule, name, action, rule.level === 'container', lowered));
    }
  }
  return {
    policyName: rs.name.replace(/_/g, '-'),
    title: rs.title,
    description: `${rs.title} (${rs.rules.map((r) => r.id).join(', ')}). Generated by eci-policy.`,
    rules,
  };
}
