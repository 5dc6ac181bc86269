// The rendered ClusterPolicy is parsed back before it is written: one well-formed YAML document
// with the expected shape, and rule names Kyverno accepts (with autogen's prefix).

import { parseAllDocuments } from 'yaml';
import type { Diagnostic } from '../../ir/diagnostics.ts';
import { MAX_RULE_NAME } from './lower.ts';

/** The one YAML document in `text`, parsed, with a spec (or a ConfigMap's data) of the kind; or why not. */
export function readDocument(text: string, file: string, kind: string): { errors: Diagnostic[]; object?: { kind?: string; spec?: unknown; data?: unknown } } {
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  const errors: Diagnostic[] = [];
  for (const doc of docs) {
    for (const e of doc.errors) errors.push({ code: 'kyverno-yaml', message: e.message.split('\n')[0] ?? e.message, file });
  }
  if (errors.length) return { errors };
  if (docs.length !== 1) return { errors: [{ code: 'kyverno-yaml', message: `expected one YAML document, found ${docs.length}`, file }] };
  const object = docs[0]!.toJS() as { kind?: string; spec?: unknown; data?: unknown };
  const body = object.spec ?? object.data;
  if (object.kind !== kind || typeof body !== 'object' || body === null) return { errors: [{ code: 'kyverno-shape', message: `not a ${kind} with a spec (or data)`, file }] };
  return { errors: [], object };
}

/** Kyverno substitutes `{{ }}` variables and `$( )` references in rules before evaluating them. */
function substitutions(body: unknown, file: string): Diagnostic[] {
  const text = JSON.stringify(body);
  return ['{{', '$('].filter((token) => text.includes(token)).map((token) => ({ code: 'kyverno-substitution', message: `the spec contains ${token}, which Kyverno would substitute`, file }));
}

/**
 * One well-formed YAML document of the kind, with a spec (or a ConfigMap's data); for Kyverno's
 * own kinds (`kyvernoSubstitutes`), without text Kyverno would substitute.
 */
export function checkYamlDocument(text: string, file: string, kind: string, kyvernoSubstitutes = true): Diagnostic[] {
  const { errors, object } = readDocument(text, file, kind);
  if (!object || !kyvernoSubstitutes) return errors;
  return substitutions(object.spec ?? object.data, file);
}

export function checkKyvernoOutput(text: string, file: string): Diagnostic[] {
  const { errors: read, object } = readDocument(text, file, 'ClusterPolicy');
  if (!object) return read;
  const policy = object as { spec: { rules?: { name?: string }[] } };
  if (!Array.isArray(policy.spec.rules)) return [{ code: 'kyverno-shape', message: 'not a ClusterPolicy with spec.rules', file }];
  const errors = substitutions(policy.spec.rules, file);
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
