// IR → Kubernetes ValidatingAdmissionPolicy and ValidatingAdmissionPolicyBinding
// (admissionregistration.k8s.io/v1, GA since Kubernetes 1.30): CEL run by the API server
// itself, no webhook. The policies are the shared CEL policies of src/targets/cel/policy.ts,
// one per action; the action lives on the binding (`validationActions`: Deny for deny rules,
// Warn and Audit for warn rules), so each policy has its own binding.
//
// Parameters: a VAP has no autogen, so it matches Pods and each pod controller by
// `resourceRules` and reads the pod template by kind, as the other CEL targets do. The list
// parameters (approvals, allowlists) are read at evaluation time from a ConfigMap (`paramKind`,
// bound with `parameterNotFoundAction: Deny`): a ConfigMap holds only strings and Kubernetes'
// CEL has no JSON decoding, so each element is its own key, `<parameter>.<index>` (any value can
// be carried, no separator to escape; an empty list has no key). The selector and the per-rule
// actions decide which policy and which matchConditions exist, so they are compiled in, as in
// the ValidatingPolicy. A rule set without list parameters has no paramKind at all.

import type { ParamValues, RuleSet } from '../../ir/types.ts';
import { listParams } from '../../ir/params.ts';
import { celParams, celString, oneLineMessage, type CelParams } from '../cel/lower.ts';
import { admissionPolicies, MESSAGE_FACTS_CHARS, MESSAGE_MAX, POLICY_SEPARATOR, type AdmissionPolicy } from '../cel/policy.ts';
import { MESSAGE_MAX_FACTS } from '../kyverno/lower.ts';

export const VAP_SEPARATOR = POLICY_SEPARATOR;
export const VAP_MAX_FACTS = MESSAGE_MAX_FACTS;
/** Where the parameter ConfigMap lives (a namespace every cluster has). */
export const VAP_PARAMS_NAMESPACE = 'kube-system';
/** The message limits (see MESSAGE_FACTS_CHARS in src/targets/cel/policy.ts). */
export const VAP_FACTS_CHARS = MESSAGE_FACTS_CHARS;
export const VAP_MESSAGE_MAX = MESSAGE_MAX;

export interface VapPolicy extends AdmissionPolicy {
  /** The parameter ConfigMap the binding names, when the rule set has list parameters. */
  readonly params: { readonly name: string; readonly namespace: string } | null;
}

export interface VapParamsInput {
  readonly name: string;
  readonly namespace: string;
  readonly ruleSet: string;
  /** No list parameter has an element (`data: {}`). */
  readonly empty: boolean;
  /** Per list parameter: a comment, and one entry per element. */
  readonly data: readonly { readonly comment: string; readonly entries: readonly { readonly key: string; readonly value: string }[] }[];
}

export interface VapOutput {
  readonly policies: readonly VapPolicy[];
  readonly params: VapParamsInput | null;
}

/** The CEL list of a list parameter's values: the bound ConfigMap's keys `<name>.<index>`. */
const runtimeList = (name: string) => `[params.?data.orValue({})].map(d, d.filter(k, k.startsWith(${celString(`${name}.`)})).map(k, d[k]))[0]`;

export function lowerRuleSet(rs: RuleSet, params: ParamValues): VapOutput {
  const lists = listParams(rs);
  const data = lists.flatMap((p) => {
    const raw = params[p.name];
    const values = Array.isArray(raw) ? (raw as string[]) : [];
    const description = `${p.name}: ${oneLineMessage(p.description, 200)}${values.length ? '' : ' (none)'}`;
    return [{ comment: description, entries: values.map((value, i) => ({ key: `${p.name}.${i}`, value })) }];
  });
  const configMap = lists.length ? { name: `${rs.name.replace(/_/g, '-')}-params`, namespace: VAP_PARAMS_NAMESPACE } : null;
  const p: CelParams = configMap ? { ...celParams(params), runtime: runtimeList } : celParams(params);
  const policies = admissionPolicies(rs, params, p, VAP_MAX_FACTS, ['Warn', 'Audit'], 'bounded').map((c): VapPolicy => ({ ...c, params: configMap }));
  const empty = data.every((d) => d.entries.length === 0);
  return { policies, params: configMap ? { ...configMap, ruleSet: rs.name, data, empty } : null };
}
