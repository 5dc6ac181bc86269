// A rule set as CEL admission policies, one per action: the shape the ValidatingPolicy and the
// ValidatingAdmissionPolicy share. A policy holds every rule with its action, its variables
// (template, normalised maps, container entries, pod-level conditions) shared by all of them,
// and one validation: Kyverno stops at a policy's first failing validation
// (pkg/cel/policies/vpol/compiler/policy.go, v1.19.1), so a validation per rule would report
// only the first failing rule. The validation fails when any rule has facts; its message names
// each failing rule and lists the facts as `<RULE-ID> <path>[@<list>[<index>]]`, at most
// `maxFactsPerRule` per rule and then `<RULE-ID> (<n> more)`.

import type { Action, ParamValues, RuleSet } from '../../ir/types.ts';
import { selectorLabels } from '../../ir/params.ts';
import {
  celString,
  checkFacts,
  inputChecks,
  oneLineMessage,
  resourceRules,
  ruleFacts,
  RuleContext,
  selectorExpr,
  SPEC_NOT_MAP,
  templateExpr,
  type CelParams,
  type CelVariable,
  type ResourceRule,
  type TemplateShape,
} from './lower.ts';

export const POLICY_SEPARATOR = ' :: ';
/** Each failing rule's text in the message, at most this long. */
const TEXT_MAX = 120;

export interface CelPolicy {
  readonly action: Action;
  readonly variables: readonly CelVariable[];
  readonly expression: string;
  readonly messageExpression: string;
  /** The IR rules in the policy, in the order of its facts. */
  readonly ruleIds: readonly string[];
}

interface Part {
  readonly ruleId: string;
  readonly text: string;
  readonly facts: string;
  /** Skipped when the pod spec is not an object (the input rule reports that). */
  readonly guarded: boolean;
}

/**
 * Kubernetes' CEL admission plugin drops a messageExpression result over 5 KiB (apiserver
 * celconfig.MaxEvaluatedMessageExpressionSizeBytes: the verdict stands, and the message becomes
 * `failed expression: <expression>`, losing every fact); Gatekeeper's CEL driver is the same
 * library. So a bounded message names the failing rules by ID only and lists as many facts as
 * fit in MESSAGE_FACTS_CHARS at the longest one's length, then counts the rest (`"<n> more"`);
 * past MESSAGE_MAX characters (hostile paths) it is cut and ends with `…`.
 */
export const MESSAGE_FACTS_CHARS = 4000;
export const MESSAGE_MAX = 4900;

/** The names a policy's own variables take: per rule (`r<k>`) and for all its facts (`f`). */
interface FactNames {
  readonly rule: (k: number) => string;
  readonly facts: string;
}
const POLICY_NAMES: FactNames = { rule: (k) => `r${k}`, facts: 'f' };

/** `<IDs of the failing rules> failed :: [<facts that fit>, "<n> more"]`, at most MESSAGE_MAX characters (see MESSAGE_FACTS_CHARS). */
function boundedMessage(ruleIds: readonly string[], names: FactNames): string {
  const ids = ruleIds.map((id, k) => `(size(variables.${names.rule(k)}) > 0 ? [${celString(id)}] : [])`).join(' + ');
  const f = `variables.${names.facts}`;
  // Evaluated only when the validation fails, so the facts are not empty; +3 for the quotes and comma.
  const listed = `[${MESSAGE_FACTS_CHARS} / ${f}.map(s, size(s) + 3).max()].map(n, ${f}.transformList(i, s, i < n, strings.quote(s)).join(',') + (size(${f}) > n ? ',"' + string(size(${f}) - n) + ' more"' : ''))[0]`;
  const message = `(${ids}).join(', ') + ${celString(` failed${POLICY_SEPARATOR}[`)} + ${listed} + ']'`;
  return `[${message}].map(m, size(m) <= ${MESSAGE_MAX} ? m : m.substring(0, ${MESSAGE_MAX - 1}) + '…')[0]`;
}

/**
 * The facts of one action's rules: a variable per rule (its facts), then `facts`, each rule's
 * first `maxFactsPerRule` as `<RULE-ID> <fact>` and `<RULE-ID> (<n> more)`.
 */
function factVariables(parts: readonly Part[], names: FactNames, maxFactsPerRule: number): CelVariable[] {
  const vars: CelVariable[] = parts.map((p, k) => ({ name: names.rule(k), expression: p.guarded ? `${SPEC_NOT_MAP} ? [] : ${p.facts}` : p.facts }));
  const n = maxFactsPerRule;
  const listed = (k: number, id: string) => {
    const r = `variables.${names.rule(k)}`;
    return `${r}.transformList(i, p, i < ${n}, ${celString(`${id} `)} + p) + (size(${r}) > ${n} ? [${celString(`${id} (`)} + string(size(${r}) - ${n}) + ' more)'] : [])`;
  };
  vars.push({ name: names.facts, expression: parts.map((p, k) => listed(k, p.ruleId)).join(' + ') });
  return vars;
}

/** How a policy's message is written: each failing rule's text then every fact, or boundedMessage. */
export type MessageStyle = 'texts' | 'bounded';

/** The message naming each failing rule with its text, then the facts. */
function textsMessage(parts: readonly Part[], names: FactNames): string {
  const texts = parts.map((p, k) => `(size(variables.${names.rule(k)}) > 0 ? [${celString(`${p.ruleId}: ${oneLineMessage(p.text, TEXT_MAX)}`)}] : [])`).join(' + ');
  const f = `variables.${names.facts}`;
  return `(${texts}).join('; ') + ${celString(`${POLICY_SEPARATOR}[`)} + ${f}.map(s, strings.quote(s)).join(',') + ']'`;
}

const messageOf = (style: MessageStyle, parts: readonly Part[], names: FactNames): string =>
  style === 'texts' ? textsMessage(parts, names) : boundedMessage(parts.map((x) => x.ruleId), names);

/** The parts (rules) of one action, lowered in `ctx` (which collects the variables they read). */
function actionParts(rs: RuleSet, params: ParamValues, action: Action, ctx: RuleContext): Part[] {
  const parts: Part[] = [];
  if (action === 'deny') {
    const checks = inputChecks();
    const messages = new Set(checks.map((c) => c.message));
    parts.push({
      ruleId: rs.inputRule.id,
      text: messages.size === 1 ? checks[0]!.message : rs.inputRule.title,
      facts: ruleFacts(checks.map((c) => ({ scope: 'pod', expr: c.expr })), false),
      guarded: false,
    });
  }
  for (const rule of rs.rules) {
    const setting = params.actions[rule.id] ?? rule.action;
    if (setting === 'off') continue;
    const checks = rule.checks.filter((c) => (c.action === 'rule' ? setting : c.action) === action);
    if (!checks.length) continue;
    const messages = new Set(checks.map((c) => c.message));
    parts.push({
      ruleId: rule.id,
      text: messages.size === 1 ? checks[0]!.message : rule.title,
      facts: ruleFacts(
        checks.map((c) => checkFacts(c.subject, c.violation, c.at ?? [], ctx)),
        rule.level === 'container',
      ),
      guarded: true,
    });
  }
  return parts;
}

/** The rule set's policies: deny, then warn, each only when some rule has that action. */
export function celPolicies(rs: RuleSet, params: ParamValues, p: CelParams, shape: TemplateShape, maxFactsPerRule: number, message: MessageStyle): CelPolicy[] {
  const policies: CelPolicy[] = [];
  for (const action of ['deny', 'warn'] as const) {
    const ctx = new RuleContext(shape, p);
    const parts = actionParts(rs, params, action, ctx);
    if (!parts.length) continue;
    policies.push({
      action,
      variables: [...ctx.variables(), ...factVariables(parts, POLICY_NAMES, maxFactsPerRule)],
      expression: `size(variables.${POLICY_NAMES.facts}) == 0`,
      messageExpression: messageOf(message, parts, POLICY_NAMES),
      ruleIds: parts.map((x) => x.ruleId),
    });
  }
  return policies;
}

/** One validation of a policy holding several actions' rules. */
export interface CelValidation {
  readonly action: Action;
  readonly expression: string;
  readonly messageExpression: string;
  readonly ruleIds: readonly string[];
}

/** Every action's rules in one variable set, a validation per action (see gatedCelPolicy). */
export interface GatedCelPolicy {
  readonly variables: readonly CelVariable[];
  readonly validations: readonly CelValidation[];
}

/**
 * The rule set as one CEL source for an engine that reports every failing validation (a
 * Gatekeeper K8sNativeValidation block): the variables of every rule, shared, then one
 * validation per action (deny, then warn), each failing with that action's facts unless
 * `skip(action)` (a CEL condition) holds, its message bounded (boundedMessage). Variables are
 * evaluated lazily, on first read, so a validation that is skipped computes none of its rules.
 */
export function gatedCelPolicy(
  rs: RuleSet,
  params: ParamValues,
  p: CelParams,
  shape: TemplateShape,
  maxFactsPerRule: number,
  skip: (action: Action) => string,
): GatedCelPolicy {
  const ctx = new RuleContext(shape, p);
  const actions = (['deny', 'warn'] as const).map((action) => ({ action, parts: actionParts(rs, params, action, ctx) })).filter((a) => a.parts.length);
  const own = actions.map(({ action, parts }) => {
    const prefix = action[0]!;
    const names: FactNames = { rule: (k) => `${prefix}${k}`, facts: `f${prefix}` };
    return { action, parts, names, variables: factVariables(parts, names, maxFactsPerRule) };
  });
  return {
    variables: [...ctx.variables(), ...own.flatMap((o) => o.variables)],
    validations: own.map((o) => ({
      action: o.action,
      expression: `${skip(o.action)} || size(variables.${o.names.facts}) == 0`,
      messageExpression: messageOf('bounded', o.parts, o.names),
      ruleIds: o.parts.map((x) => x.ruleId),
    })),
  };
}

/** A CEL policy as an admission object: its name, texts, matching and actions. */
export interface AdmissionPolicy extends CelPolicy {
  readonly name: string;
  readonly title: string;
  readonly description: string;
  /** Deny for deny rules; for warn rules the engine's pair (Audit and Warn). */
  readonly validationActions: readonly string[];
  /** Pods and every pod controller: the template is read by kind, so no autogen is needed. */
  readonly resourceRules: readonly ResourceRule[];
  /** The selector on the pod (template) labels as a matchCondition; absent when it selects every pod. */
  readonly scope: string | null;
}

/** The rule set's admission policies, one per action (see celPolicies). */
export function admissionPolicies(
  rs: RuleSet,
  params: ParamValues,
  p: CelParams,
  maxFactsPerRule: number,
  warnActions: readonly string[],
  message: MessageStyle,
): AdmissionPolicy[] {
  const selector = selectorLabels(rs, params);
  const shape: TemplateShape = { controllers: rs.podControllers };
  // matchConditions run before the variables: the selector reads the template itself.
  const scope = selectorExpr(selector, templateExpr(shape));
  return celPolicies(rs, params, p, shape, maxFactsPerRule, message).map((c) => ({
    ...c,
    name: `${rs.name.replace(/_/g, '-')}-${c.action}`,
    title: `${rs.title} (${c.action} rules)`,
    description: `${rs.title}: the rules whose action is ${c.action} (${c.ruleIds.join(', ')}). Generated by eci-policy.`,
    validationActions: c.action === 'deny' ? ['Deny'] : warnActions,
    resourceRules: resourceRules(['Pod', ...shape.controllers]),
    scope,
  }));
}
