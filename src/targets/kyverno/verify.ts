// The rendered ClusterPolicy is parsed back before it is written: one well-formed YAML document
// with the expected shape, and rule names Kyverno accepts (with autogen's prefix).

import { parseAllDocuments } from 'yaml';
import type { Diagnostic } from '../../ir/diagnostics.ts';
import { MAX_RULE_NAME } from './lower.ts';

/**
 * One well-formed YAML document of the kind, with a spec (or a ConfigMap's data); for Kyverno's
 * own kinds (`kyvernoSubstitutes`), without text Kyverno would substitute.
 */
export function checkYamlDocument(text: string, file: string, kind: string, kyvernoSubstitutes = true): Diagnostic[] {
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  const errors: Diagnostic[] = [];
  for (const doc of docs) {
    for (const e of doc.errors) errors.push({ code: 'kyverno-yaml', message: e.message.split('\n')[0] ?? e.message, file });
  }
  if (errors.length) return errors;
  if (docs.length !== 1) return [{ code: 'kyverno-yaml', message: `expected one YAML document, found ${docs.length}`, file }];
  const object = docs[0]!.toJS() as { kind?: string; spec?: unknown; data?: unknown };
  const body = object.spec ?? object.data;
  if (object.kind !== kind || typeof body !== 'object' || body === null) return [{ code: 'kyverno-shape', message: `not a ${kind} with a spec (or data)`, file }];
  if (!kyvernoSubstitutes) return [];
  // Kyverno substitutes `{{ }}` variables and `$( )` references in rules before evaluating them.
  const specText = JSON.stringify(body);
  for (const token of ['{{', '$(']) {
    if (specText.includes(token)) errors.push({ code: 'kyverno-substitution', message: `the spec contains ${token}, which Kyverno would substitute`, file });
  }
  return errors;
}

export function checkKyvernoOutput(text: string, file: string): Diagnostic[] {
  const errors = checkYamlDocument(text, file, 'ClusterPolicy');
  if (errors.length) return errors;
  const policy = parseAllDocuments(text)[0]!.toJS() as { spec: { rules?: { name?: string }[] } };
  if (!Array.isArray(policy.spec.rules)) return [{ code: 'kyverno-shape', message: 'not a ClusterPolicy with spec.rules', file }];
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
