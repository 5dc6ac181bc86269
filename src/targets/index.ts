// The target table. A new engine is a new folder here and in templates/, and a row below.

import type { HeaderInput } from './render.ts';
import { render } from './render.ts';
import type { Diagnostic, Result } from '../ir/diagnostics.ts';
import { fail, ok } from '../ir/diagnostics.ts';
import type { ParamValues, RuleSet } from '../ir/types.ts';
import { lowerRuleSet as lowerKyverno } from './kyverno/lower.ts';
import { checkKyvernoOutput } from './kyverno/verify.ts';
import { lowerRuleSet as lowerRego } from './rego/lower.ts';
import { lowerTests } from './rego/tests.ts';
import { lowerKyvernoTests } from './kyverno/tests.ts';
import { kustomization } from './kyverno/kustomization.ts';
import type { Fixture } from '../fixtures/corpus.ts';
import { referenceJson } from './reference/lower.ts';
import { lowerRuleSet as lowerVpol, vpolFile } from './kyverno-vpol/lower.ts';
import { checkYamlDocument } from './kyverno/verify.ts';

export interface Target {
  /** The folder under generated/<rule-set>/. */
  readonly name: string;
  /**
   * Files relative to that folder: the policy, and the fixture corpus as the engine's own test
   * suite (when the rule set has fixtures).
   */
  readonly emit: (rs: RuleSet, params: ParamValues, header: HeaderInput, fixtures: readonly Fixture[]) => Result<Map<string, string>>;
}

export const targets: readonly Target[] = [
  {
    name: 'rego',
    emit: (rs, params, header, fixtures) => {
      const files = new Map([['policy.rego', render('rego/policy.rego', lowerRego(rs), header)]]);
      if (fixtures.length) files.set('policy_test.rego', render('rego/policy_test.rego', lowerTests(rs, params, fixtures), header));
      return ok(files);
    },
  },
  {
    name: 'kyverno',
    emit: (rs, params, header, fixtures) => {
      const policy = lowerKyverno(rs, params);
      const text = render('kyverno/clusterpolicy.yaml', policy, header);
      const errors: Diagnostic[] = checkKyvernoOutput(text, `generated/${rs.name}/kyverno/clusterpolicy.yaml`);
      if (errors.length) return fail(errors);
      const files = new Map([['clusterpolicy.yaml', text]]);
      files.set('kustomization.yaml', render('kyverno/kustomization.yaml', kustomization(rs, ['clusterpolicy.yaml']), header));
      const tests = lowerKyvernoTests(rs, params, policy, fixtures);
      if (tests.fixtures) {
        files.set('tests/kyverno-test.yaml', render('kyverno/kyverno-test.yaml', tests.input, header));
        files.set('tests/resources.yaml', tests.resources);
      }
      return ok(files);
    },
  },
  {
    name: 'kyverno-vpol',
    emit: (rs, params, header) => {
      const files = new Map<string, string>();
      const errors: Diagnostic[] = [];
      for (const policy of lowerVpol(rs, params).policies) {
        const file = vpolFile(policy);
        const text = render('kyverno-vpol/validatingpolicy.yaml', policy, header);
        errors.push(...checkYamlDocument(text, `generated/${rs.name}/kyverno-vpol/${file}`, 'ValidatingPolicy'));
        files.set(file, text);
      }
      if (errors.length) return fail(errors);
      files.set('kustomization.yaml', render('kyverno/kustomization.yaml', kustomization(rs, [...files.keys()]), header));
      return ok(files);
    },
  },
  {
    name: 'reference',
    emit: (rs) => ok(new Map([['rules.json', referenceJson(rs)]])),
  },
];
