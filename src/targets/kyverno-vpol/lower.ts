// IR → Kyverno ValidatingPolicy (policies.kyverno.io/v1), the successor of the ClusterPolicy:
// one policy per action the rule set uses (Deny for deny; Audit and Warn for warn), each holding
// every rule with that action, from the shared CEL policies of src/targets/cel/policy.ts (one
// validation per policy, facts of every failing rule in its message; see there why).
//
// Pod controllers are matched by the policy itself, which reads the pod template by kind
// (variable `t`), rather than by Kyverno's autogen: autogen rewrites `object.spec` into the
// template's path textually (pkg/cel/autogen), which a policy reading the template by kind does
// not need, and it only runs for a policy matching pods alone. It is turned off explicitly.
//
// Parameters are compiled in, as in the ClusterPolicy: a ValidatingPolicy has no paramKind.

import type { ParamValues, RuleSet } from '../../ir/types.ts';
import { MESSAGE_MAX_FACTS } from '../kyverno/lower.ts';
import { celParams } from '../cel/lower.ts';
import { admissionPolicies, POLICY_SEPARATOR, type AdmissionPolicy } from '../cel/policy.ts';

export const VPOL_SEPARATOR = POLICY_SEPARATOR;
/**
 * Facts listed per rule, as in the ClusterPolicy (MESSAGE_MAX_FACTS); beyond them the rule's
 * last entry is `<RULE-ID> (<n> more)`, so one rule with many offending items cannot crowd out
 * the others' facts. Kubernetes caps a message at 5 KiB; 10 facts of each failing rule stay
 * well within it for the usual paths.
 */
export const VPOL_MAX_FACTS = MESSAGE_MAX_FACTS;

export type ValidatingPolicy = AdmissionPolicy;

export interface VpolTemplateInput {
  readonly policies: readonly ValidatingPolicy[];
}

/** The policies' file names under generated/<rule-set>/kyverno-vpol/. */
export const vpolFile = (p: ValidatingPolicy): string => `validatingpolicy-${p.action}.yaml`;

export function lowerRuleSet(rs: RuleSet, params: ParamValues): VpolTemplateInput {
  return { policies: admissionPolicies(rs, params, celParams(params), VPOL_MAX_FACTS, ['Audit', 'Warn'], 'texts') };
}
