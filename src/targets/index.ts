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
import { lowerPolicyTests } from './kyverno/policy-tests.ts';
import { lowerRuleSet as lowerVap } from './vap/lower.ts';
import { checkYamlDocument } from './kyverno/verify.ts';
import { constraintFile, lowerRuleSet as lowerGatekeeper, RULE_ACTION_PARAM } from './gatekeeper/lower.ts';
import { lowerGatorSuite } from './gatekeeper/suite.ts';
import { checkGatekeeperTemplate } from './gatekeeper/verify.ts';

export interface Target {
  /** The folder under generated/<rule-set>/. */
  readonly name: string;
  /**
   * Files relative to that folder: the policy, and the fixture corpus as the engine's own test
   * suite (when the rule set has fixtures).
   */
  readonly emit: (rs: RuleSet, params: ParamValues, header: HeaderInput, fixtures: readonly Fixture[]) => Result<Map<string, string>>;
}

/** The folder's files with its `kyverno test` suite in tests/, when the suite has fixtures. */
function withSuite(files: Map<string, string>, tests: { readonly fixtures: number; readonly resources: string }, suite: () => string): Map<string, string> {
  if (tests.fixtures) {
    files.set('tests/kyverno-test.yaml', suite());
    files.set('tests/resources.yaml', tests.resources);
  }
  return files;
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
      files.set('kustomization.yaml', render('kyverno/kustomization.yaml', kustomization(rs, 'kyverno', ['clusterpolicy.yaml']), header));
      const tests = lowerKyvernoTests(rs, params, policy, fixtures);
      return ok(withSuite(files, tests, () => render('kyverno/kyverno-test.yaml', tests.input, header)));
    },
  },
  {
    name: 'kyverno-vpol',
    emit: (rs, params, header, fixtures) => {
      const files = new Map<string, string>();
      const errors: Diagnostic[] = [];
      const policies = lowerVpol(rs, params).policies.map((policy) => ({ policy, file: vpolFile(policy) }));
      for (const { policy, file } of policies) {
        const text = render('kyverno-vpol/validatingpolicy.yaml', policy, header);
        errors.push(...checkYamlDocument(text, `generated/${rs.name}/kyverno-vpol/${file}`, 'ValidatingPolicy'));
        files.set(file, text);
      }
      if (errors.length) return fail(errors);
      files.set('kustomization.yaml', render('kyverno/kustomization.yaml', kustomization(rs, 'kyverno-vpol', [...files.keys()]), header));
      const suite = { folder: 'kyverno-vpol', flag: 'isValidatingPolicy', policies: policies.map((p) => p.policy), files: policies.map((p) => p.file) };
      const tests = lowerPolicyTests(rs, params, suite, fixtures);
      return ok(withSuite(files, tests, () => render('kyverno/policy-test.yaml', tests.input, header)));
    },
  },
  {
    name: 'vap',
    emit: (rs, params, header, fixtures) => {
      const out = lowerVap(rs, params);
      const files = new Map<string, string>();
      const errors: Diagnostic[] = [];
      const add = (file: string, kind: string, text: string) => {
        // Objects the API server reads: no Kyverno substitution (the CEL escapes braces anyway).
        errors.push(...checkYamlDocument(text, `generated/${rs.name}/vap/${file}`, kind, false));
        files.set(file, text);
      };
      for (const policy of out.policies) {
        add(`policy-${policy.action}.yaml`, 'ValidatingAdmissionPolicy', render('vap/policy.yaml', policy, header));
        add(`binding-${policy.action}.yaml`, 'ValidatingAdmissionPolicyBinding', render('vap/binding.yaml', policy, header));
      }
      if (out.params) add('params.yaml', 'ConfigMap', render('vap/params.yaml', out.params, header));
      if (errors.length) return fail(errors);
      const objects = [...files.keys()];
      files.set('kustomization.yaml', render('kyverno/kustomization.yaml', kustomization(rs, 'vap', objects), header));
      const suite = {
        folder: 'vap',
        flag: 'isValidatingAdmissionPolicy',
        policies: out.policies,
        files: objects.filter((f) => f !== 'params.yaml'),
        paramFiles: out.params ? ['params.yaml'] : [],
      };
      const tests = lowerPolicyTests(rs, params, suite, fixtures);
      return ok(withSuite(files, tests, () => render('kyverno/policy-test.yaml', tests.input, header)));
    },
  },
  {
    name: 'gatekeeper',
    emit: (rs, params, header, fixtures) => {
      const where = (file: string) => `generated/${rs.name}/gatekeeper/${file}`;
      if (rs.params.some((p) => p.name === RULE_ACTION_PARAM)) {
        return fail([{ code: 'gatekeeper-param-name', message: `parameter ${RULE_ACTION_PARAM} is the Gatekeeper constraints' own; rename it`, file: where('template.yaml'), path: `params.${RULE_ACTION_PARAM}` }]);
      }
      const out = lowerGatekeeper(rs, params);
      const rego = render('rego/policy.rego', { ...lowerRego(rs), gatekeeper: out.rego }, header);
      const template = render('gatekeeper/template.yaml', { ...out.template, rego }, header);
      const errors: Diagnostic[] = checkGatekeeperTemplate(template, where('template.yaml'), rego);
      const files = new Map([['template.yaml', template]]);
      const constraints = out.constraints.map((constraint) => ({ constraint, file: constraintFile(constraint) }));
      for (const { constraint, file } of constraints) {
        const text = render('gatekeeper/constraint.yaml', constraint, header);
        errors.push(...checkYamlDocument(text, where(file), constraint.kind, false));
        files.set(file, text);
      }
      if (errors.length) return fail(errors);
      files.set('kustomization.yaml', render('kyverno/kustomization.yaml', kustomization(rs, 'gatekeeper', [...files.keys()]), header));
      if (fixtures.length) {
        const suite = lowerGatorSuite(rs, params, 'template.yaml', constraints, fixtures);
        files.set('tests/suite.yaml', render('gatekeeper/suite.yaml', suite.input, header));
        for (const [file, text] of suite.cases) files.set(`tests/${file}`, text);
      }
      return ok(files);
    },
  },
  {
    name: 'reference',
    emit: (rs) => ok(new Map([['rules.json', referenceJson(rs)]])),
  },
];
