import type { ParamValues, RuleSet } from '../../ir/types.ts';
export interface KyvernoTemplateInput { readonly name: string }
export function lowerRuleSet(rs: RuleSet, _params: ParamValues): KyvernoTemplateInput {
  return { name: rs.name };
}
