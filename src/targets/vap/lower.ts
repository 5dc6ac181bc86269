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
import { celParams, celString, oneLineMessage, type CelParams } from '../cel/lower.ts';
import { admissionPolicies, POLICY_SEPARATOR, type AdmissionPolicy } from '../cel/policy.ts';
import { MESSAGE_MAX_FACTS } from '../kyverno/lower.ts';

export const VAP_SEPARATOR = POLICY_SEPARATOR;
export const VAP_MAX_FACTS = MESSAGE_MAX_FACTS;
/** Where the parameter ConfigMap lives (a namespace every cluster has). */
export const VAP_PARAMS_NAMESPACE = 'kube-system';
/**
 * Kubernetes drops a messageExpression result over 5 KiB (the verdict stands, the message and
 * its facts are lost). So the message names the failing rules by ID only, and lists as many
 * facts as fit in VAP_FACTS_CHARS at the longest one's length, then counts the rest
 * (`"<n> more"`); past VAP_MESSAGE_MAX characters (hostile paths) it is cut and ends with `…`.
 */
export const VAP_FACTS_CHARS = 4000;
export const VAP_MESSAGE_MAX = 4900;

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

/** `<IDs of the failing rules> failed :: [<facts that fit>, "<n> more"]`, at most VAP_MESSAGE_MAX characters. */
function messageExpression(ruleIds: readonly string[]): string {
  const ids = ruleIds.map((id, k) => `(size(variables.r${k}) > 0 ? [${celString(id)}] : [])`).join(' + ');
  const f = 'variables.f';
  // Evaluated only when the validation fails, so `f` is not empty; +3 for the quotes and comma.
  const listed = `[${VAP_FACTS_CHARS} / ${f}.map(s, size(s) + 3).max()].map(n, ${f}.transformList(i, s, i < n, strings.quote(s)).join(',') + (size(${f}) > n ? ',"' + string(size(${f}) - n) + ' more"' : ''))[0]`;
  const message = `(${ids}).join(', ') + ${celString(` failed${VAP_SEPARATOR}[`)} + ${listed} + ']'`;
  return `[${message}].map(m, size(m) <= ${VAP_MESSAGE_MAX} ? m : m.substring(0, ${VAP_MESSAGE_MAX - 1}) + '…')[0]`;
}

export function lowerRuleSet(rs: RuleSet, params: ParamValues): VapOutput {
  const lists = rs.params.filter((p) => p.type.kind === 'stringList' || p.type.kind === 'namespaceApproval');
  const data = lists.flatMap((p) => {
    const raw = params[p.name];
    const values = Array.isArray(raw) ? (raw as string[]) : [];
    const description = `${p.name}: ${oneLineMessage(p.description, 200)}${values.length ? '' : ' (none)'}`;
    return [{ comment: description, entries: values.map((value, i) => ({ key: `${p.name}.${i}`, value })) }];
  });
  const configMap = lists.length ? { name: `${rs.name.replace(/_/g, '-')}-params`, namespace: VAP_PARAMS_NAMESPACE } : null;
  const p: CelParams = configMap ? { ...celParams(params), runtime: runtimeList } : celParams(params);
  const policies = admissionPolicies(rs, params, p, VAP_MAX_FACTS, ['Warn', 'Audit']).map(
    (c): VapPolicy => ({ ...c, messageExpression: messageExpression(c.ruleIds), params: configMap }),
  );
  const empty = data.every((d) => d.entries.length === 0);
  return { policies, params: configMap ? { ...configMap, ruleSet: rs.name, data, empty } : null };
}
