// The target table. A new engine is a new folder here and in templates/, and a row below.

import type { HeaderInput } from '../emit/render.ts';
import { render } from '../emit/render.ts';
import type { Diagnostic, Result } from '../ir/diagnostics.ts';
import { fail, ok } from '../ir/diagnostics.ts';
import type { ParamValues, RuleSet } from '../ir/types.ts';
import { lowerRuleSet as lowerKyverno } from './kyverno/lower.ts';
import { checkKyvernoOutput } from './kyverno/verify.ts';
import { lowerRuleSet as lowerRego } from './rego/lower.ts';

export interface Target {
  /** The folder under generated/<rule-set>/. */
  readonly name: string;
  /** Files relative to that folder. */
  readonly emit: (rs: RuleSet, params: ParamValues, header: HeaderInput) => Result<Map<string, string>>;
}

export const targets: readonly Target[] = [
  {
    name: 'rego',
    emit: (rs, _params, header) => ok(new Map([['policy.rego', render('rego/policy.rego', lowerRego(rs), header)]])),
  },
  {
    name: 'kyverno',
    emit: (rs, params, header) => {
      const text = render('kyverno/clusterpolicy.yaml', lowerKyverno(rs, params), header);
      const errors: Diagnostic[] = checkKyvernoOutput(text, `generated/${rs.name}/kyverno/clusterpolicy.yaml`);
      return errors.length ? fail(errors) : ok(new Map([['clusterpolicy.yaml', text]]));
    },
  },
];
