// The rendered ClusterPolicy is parsed back before it is written: one well-formed YAML document
// with the expected shape, and rule names Kyverno accepts (with autogen's prefix).

import { parseAllDocuments } from 'yaml';
import type { Diagnostic } from '../../ir/diagnostics.ts';
import { MAX_RULE_NAME } from './lower.ts';

export function checkKyvernoOutput(text: string, file: string): Diagnostic[] {
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  const errors: Diagnostic[] = [];
  for (const doc of docs) {
    for (const e of doc.errors) errors.push({ code: 'kyverno-yaml', message: e.message.split('\n')[0] ?? e.message, file });
  }
  if (errors.length) return errors;
  if (docs.length !== 1) return [{ code: 'kyverno-yaml', message: `expected one YAML document, found ${docs.length}`, file }];
  const policy = docs[0]!.toJS() as { kind?: string; spec?: { rules?: { name?: string }[] } };
  if (policy.kind !== 'ClusterPolicy' || !Array.isArray(policy.spec?.rules))
    return [{ code: 'kyverno-shape', message: 'not a ClusterPolicy with spec.rules', file }];
  // Kyverno substitutes `{{ }}` variables and `$( )` references in rules before evaluating them.
  const rulesText = JSON.stringify(policy.spec.rules);
  for (const token of ['{{', '$(']) {
    if (rulesText.includes(token)) errors.push({ code: 'kyverno-substitution', message: `the rules contain ${token}, which Kyverno would substitute`, file });
  }
  const names = new Set<string>();
  for (const [i, rule] of policy.spec.rules.entries()) {
    const name = rule.name ?? '';
    if (name.length > MAX_RULE_NAME)
      errors.push({ code: 'kyverno-rule-name', message: `rule name ${name} is longer than ${MAX_RULE_NAME} characters (autogen adds a prefix)`, file, path: `spec.rules[${i}]` });
    if (names.has(name)) errors.push({ code: 'kyverno-rule-name', message: `rule name ${name} is used twice`, file, path: `spec.rules[${i}]` });
    names.add(name);
  }
  return errors;
}
