// IR → a Gatekeeper ConstraintTemplate (templates.gatekeeper.sh/v1) and its Constraints.
//
// The template carries two code blocks for one rule set, as gatekeeper-library's do: a
// K8sNativeValidation (CEL) block, which Gatekeeper and gator evaluate by default, and a Rego
// (v1) block, used when the CEL driver is off (`--enable-k8s-native-validation=false`). Both
// are this compiler's own lowerings: the CEL of src/targets/cel/policy.ts (gatedCelPolicy: one
// validation per action, since Gatekeeper reports every failing validation) and the Rego of
// src/targets/rego/ with Gatekeeper's entry point (`violation`, the facts as details).
//
// Enforcement: Gatekeeper's action is the constraint's (`enforcementAction`), so there is one
// Constraint per action the rule set uses (deny, warn), and each reports only the rules with
// its action (the `ruleAction` parameter; a constraint without it reports every rule).
//
// Parameters: the list parameters (approvals, allowlists) are the constraints' `parameters`,
// read at evaluation time by both blocks (`variables.params`, `input.parameters`). The selector
// and the per-rule actions decide which validation each rule is in, so they are compiled into
// the template, as in the other CEL targets; rebuild to change them.
//
// The CEL block opts out of Gatekeeper generating a ValidatingAdmissionPolicy from it
// (`generateVAP: false`): the vap/ target is that artefact, with its own parameters. Its key for
// match conditions is the singular `matchCondition` (Gatekeeper's schema, pkg/drivers/k8scel/
// schema); a misspelt key is dropped silently, so verify.ts checks the parsed template.

import type { Action, ParamValues, RuleSet } from '../../ir/types.ts';
import { selectorLabels, listParams } from '../../ir/params.ts';
import { celParams, celString, KIND_RESOURCES, oneLineMessage, selectorExpr, templateExpr, type CelParams, type CelVariable, type TemplateShape } from '../cel/lower.ts';
import { gatedCelPolicy, POLICY_SEPARATOR, type CelValidation } from '../cel/policy.ts';
import { MESSAGE_MAX_FACTS } from '../kyverno/lower.ts';

/** The constraint parameter choosing which rules a constraint reports. */
export const RULE_ACTION_PARAM = 'ruleAction';
/** The admission target every template names. */
export const GATEKEEPER_TARGET = 'admission.k8s.gatekeeper.sh';
export const GATEKEEPER_SEPARATOR = POLICY_SEPARATOR;

/** `pss_restricted` → `PssRestricted`: the constraint kind (the template's name is it lower-cased). */
export const gatekeeperKind = (rs: RuleSet): string =>
  rs.name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join('');

export interface GatekeeperListParam {
  readonly name: string;
  readonly description: string;
}

export interface GatekeeperTemplateInput {
  readonly name: string;
  readonly kind: string;
  readonly title: string;
  readonly description: string;
  readonly ruleActionParam: string;
  readonly lists: readonly GatekeeperListParam[];
  readonly target: string;
  /** The selector on the pod (template) labels; absent when it selects every pod. */
  readonly scope: string | null;
  readonly variables: readonly CelVariable[];
  readonly validations: readonly CelValidation[];
  /** The Rego block's source (rendered from templates/rego with `gatekeeper` set). */
  readonly rego: string;
}

export interface ConstraintInput {
  readonly kind: string;
  readonly name: string;
  readonly action: Action;
  readonly ruleIds: readonly string[];
  readonly ruleActionParam: string;
  readonly match: readonly { readonly apiGroup: string; readonly kinds: readonly string[] }[];
  readonly lists: readonly { readonly name: string; readonly values: readonly string[] }[];
}

export interface GatekeeperOutput {
  readonly template: Omit<GatekeeperTemplateInput, 'rego'>;
  /** What the Rego block reads: the constraint's lists, and the parameters compiled in. */
  readonly rego: { readonly lists: readonly string[]; readonly compiled: Readonly<Record<string, unknown>> };
  readonly constraints: readonly ConstraintInput[];
}

/** The constraints' file names under generated/<rule-set>/gatekeeper/. */
export const constraintFile = (c: ConstraintInput): string => `constraint-${c.action}.yaml`;

/** Kinds by API group, in a fixed order, for a constraint's `match.kinds`. */
function kindMatch(kinds: readonly string[]): { apiGroup: string; kinds: string[] }[] {
  const byGroup = new Map<string, string[]>();
  for (const kind of kinds) {
    const r = KIND_RESOURCES[kind];
    if (!r) throw new Error(`no resource is known for kind ${kind}`);
    byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), kind]);
  }
  return [...byGroup].map(([apiGroup, ks]) => ({ apiGroup, kinds: ks }));
}

export function lowerRuleSet(rs: RuleSet, params: ParamValues): GatekeeperOutput {
  const lists = listParams(rs);
  // The constraint's parameters as a map: Gatekeeper binds `variables.params` to them, or to
  // null when the constraint has none.
  const kp: CelVariable = { name: 'kp', expression: 'type(variables.params) == map ? variables.params : {}' };
  const p: CelParams = { ...celParams(params), runtime: (name) => `variables.kp[?${celString(name)}].orValue([])` };
  const shape: TemplateShape = { controllers: rs.podControllers };
  const other = (a: Action) => (a === 'deny' ? 'warn' : 'deny');
  const cel = gatedCelPolicy(rs, params, p, shape, MESSAGE_MAX_FACTS, (a) => `variables.kp[?${celString(RULE_ACTION_PARAM)}].orValue('') == ${celString(other(a))}`);
  const selector = selectorLabels(rs, params);
  const kind = gatekeeperKind(rs);
  const match = kindMatch(['Pod', ...rs.podControllers]);
  return {
    template: {
      name: kind.toLowerCase(),
      kind,
      title: rs.title,
      description: `${rs.title}: every rule, in one template with a CEL and a Rego block; one constraint per action reports the rules with that action. Generated by eci-policy.`,
      ruleActionParam: RULE_ACTION_PARAM,
      lists: lists.map((l) => ({ name: l.name, description: oneLineMessage(l.description, 500) })),
      target: GATEKEEPER_TARGET,
      scope: selectorExpr(selector, templateExpr(shape)),
      variables: [kp, ...cel.variables],
      validations: cel.validations,
    },
    rego: {
      lists: lists.map((l) => l.name),
      compiled: { [rs.selectorParam]: params[rs.selectorParam] ?? {}, actions: params.actions },
    },
    constraints: cel.validations.map((v) => ({
      kind,
      name: `${rs.name.replace(/_/g, '-')}-${v.action}`,
      action: v.action,
      ruleIds: v.ruleIds,
      ruleActionParam: RULE_ACTION_PARAM,
      match,
      lists: lists.map((l) => ({ name: l.name, values: p.list(l.name) })),
    })),
  };
}
