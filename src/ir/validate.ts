// IR validation: the JSON Schema (ajv) first, then the checks a schema cannot express. Every
// error is collected with its path; nothing stops at the first.

import { Ajv, type ErrorObject } from 'ajv';
import type { Diagnostic, Result } from './diagnostics.ts';
import { fail, ok } from './diagnostics.ts';
import { ruleSetSchema } from './schema.ts';
import type { Condition, NumberExpr, Ref, RuleSet, Subject } from './types.ts';
import { assertNever } from './types.ts';

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validateSchema = ajv.compile(ruleSetSchema);

/** `/rules/3/checks/0` → `rules[3].checks[0]`, with the rule ID when known. */
function readablePath(instancePath: string, rs: unknown): string {
  const parts = instancePath.split('/').slice(1);
  let out = '';
  let node: unknown = rs;
  for (const part of parts) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const child: unknown = node[Number(key)];
      const id = child && typeof child === 'object' && 'id' in child ? ` (${String((child as { id: unknown }).id)})` : '';
      out += `[${key}]${id}`;
      node = child;
    } else {
      out += out ? `.${key}` : key;
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined;
    }
  }
  return out || '(root)';
}

function schemaErrors(errors: readonly ErrorObject[], rs: unknown, file?: string): Diagnostic[] {
  // oneOf failures repeat every branch's complaint; keep the most specific (deepest) ones.
  const deepest = new Map<string, ErrorObject>();
  for (const e of errors) {
    const prev = deepest.get(e.instancePath);
    if (!prev || (prev.keyword === 'oneOf' && e.keyword !== 'oneOf')) deepest.set(e.instancePath, e);
  }
  return [...deepest.values()].map((e) => ({
    code: 'ir-schema',
    message: `${e.message ?? 'is invalid'}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params['additionalProperty'])}` : ''}${e.params && 'allowedValues' in e.params ? ` (${(e.params['allowedValues'] as unknown[]).join(', ')})` : ''}`,
    path: readablePath(e.instancePath, rs),
    ...(file ? { file } : {}),
  }));
}

export function validateRuleSet(rs: unknown, file?: string): Result<RuleSet> {
  const schemaOk = validateSchema(rs);
  const errors: Diagnostic[] = schemaOk ? [] : schemaErrors(validateSchema.errors ?? [], rs, file);
  try {
    errors.push(...semanticErrors(rs as RuleSet, file));
  } catch {
    // The shape is too broken to walk; the schema errors say why.
    if (schemaOk) throw new Error('semantic validation failed on an IR that matches the schema');
  }
  return errors.length ? fail(errors) : ok(rs as RuleSet);
}

function semanticErrors(ruleSet: RuleSet, file?: string): Diagnostic[] {
  const errors: Diagnostic[] = [];
  const err = (code: string, message: string, path: string) => errors.push({ code, message, path, ...(file ? { file } : {}) });

  const params = new Map(ruleSet.params.map((p) => [p.name, p]));
  const seenParams = new Set<string>();
  ruleSet.params.forEach((p, i) => {
    if (seenParams.has(p.name)) err('duplicate-param', `parameter ${p.name} is declared twice`, `params[${i}]`);
    seenParams.add(p.name);
  });
  if (params.get(ruleSet.selectorParam)?.type.kind !== 'labelSelector')
    err('unknown-param', `selector parameter ${ruleSet.selectorParam} is not a declared labelSelector parameter`, 'selectorParam');

  const ids = new Map<string, number>();
  ruleSet.rules.forEach((rule, ri) => {
    const at = `rules[${ri}] (${rule.id})`;
    const prev = ids.get(rule.id);
    if (prev !== undefined) err('duplicate-rule-id', `rule ID ${rule.id} is already used by rules[${prev}]`, at);
    ids.set(rule.id, ri);
    if (rule.id === ruleSet.inputRule.id) err('duplicate-rule-id', `rule ID ${rule.id} is the input rule's ID`, at);
    const checkIds = new Set<string>();
    rule.checks.forEach((check, ci) => {
      const cat = `${at}.checks[${ci}] (${check.id})`;
      if (checkIds.has(check.id)) err('duplicate-check-id', `check ${check.id} appears twice in ${rule.id}`, cat);
      checkIds.add(check.id);
      const inContainer = subjectHasContainer(check.subject);
      walkCondition(check.violation, `${cat}.violation`, inContainer, (code, message, p) => err(code, message, p), params);
    });
  });
  return errors;
}

export function subjectHasContainer(s: Subject): boolean {
  switch (s.kind) {
    case 'pod':
    case 'podField':
    case 'podListItems':
    case 'podKeys':
    case 'podListItemKeys':
    case 'annotation':
    case 'annotationPrefix':
    case 'annotationJsonItems':
      return false;
    case 'containerField':
    case 'containerListItems':
    case 'containerKeys':
    case 'effectiveField':
      return true;
    default:
      return assertNever(s, 'subject');
  }
}

type Report = (code: string, message: string, path: string) => void;

function checkRef(ref: Ref, path: string, inContainer: boolean, report: Report): void {
  if ((ref.kind === 'containerField' || ref.kind === 'effective') && !inContainer)
    report('ref-out-of-context', `${ref.kind} reads a container, but the check's subject is not per container`, path);
}

/**
 * IR regexes run on RE2 (OPA, CEL) and on JavaScript RegExp (the opa-wasm SDK): they must
 * compile in JavaScript and use nothing RE2 lacks (lookaround, backreferences), or the engines
 * would disagree.
 */
const RE2_UNSUPPORTED: readonly [RegExp, string][] = [
  [/\(\?<?[=!]/, 'lookaround'],
  [/\\[1-9]/, 'a backreference'],
  [/\\k</, 'a named backreference'],
];

function checkRegex(pattern: string, path: string, report: Report): void {
  try {
    new RegExp(pattern);
  } catch (e) {
    report('bad-regex', `regular expression ${JSON.stringify(pattern)} does not compile: ${(e as Error).message}`, path);
    return;
  }
  for (const [construct, what] of RE2_UNSUPPORTED) {
    if (construct.test(pattern)) report('bad-regex', `regular expression ${JSON.stringify(pattern)} uses ${what}, which RE2 (OPA, CEL) does not support`, path);
  }
}

function walkNumber(n: NumberExpr, path: string, inContainer: boolean, report: Report): void {
  switch (n.kind) {
    case 'intString':
      return checkRef(n.ref, `${path}.ref`, inContainer, report);
    case 'annotationQuantity':
      return checkRegex(n.pattern, `${path}.pattern`, report);
    case 'containerQuantitySum':
      return;
    case 'firstDefined':
      return n.options.forEach((o, i) => walkNumber(o, `${path}.options[${i}]`, inContainer, report));
    default:
      return assertNever(n, 'number expression');
  }
}

function walkCondition(
  c: Condition,
  path: string,
  inContainer: boolean,
  report: Report,
  params: ReadonlyMap<string, { type: { kind: string } }>,
): void {
  const needParam = (name: string, kind: string) => {
    const p = params.get(name);
    if (!p) report('unknown-param', `parameter ${name} is not declared`, `${path}.param`);
    else if (p.type.kind !== kind) report('param-type', `parameter ${name} is a ${p.type.kind}, expected ${kind}`, `${path}.param`);
  };
  switch (c.kind) {
    case 'present':
    case 'absent':
    case 'hasType':
    case 'equals':
    case 'oneOf':
    case 'matchesAny':
    case 'quantity':
    case 'jsonObjectArray':
      return checkRef(c.ref, `${path}.ref`, inContainer, report);
    case 'intRange':
      if (c.min > c.max) report('empty-range', `range ${c.min}..${c.max} is empty`, path);
      return checkRef(c.ref, `${path}.ref`, inContainer, report);
    case 'regex':
      checkRegex(c.pattern, `${path}.pattern`, report);
      return checkRef(c.ref, `${path}.ref`, inContainer, report);
    case 'inParamList':
      needParam(c.param, 'stringList');
      return checkRef(c.ref, `${path}.ref`, inContainer, report);
    case 'namespaceApproved':
      return needParam(c.param, 'namespaceApproval');
    case 'numberDefined':
      return walkNumber(c.expr, `${path}.expr`, inContainer, report);
    case 'atMost':
      walkNumber(c.left, `${path}.left`, inContainer, report);
      return walkNumber(c.right, `${path}.right`, inContainer, report);
    case 'someItem':
      checkRef(c.list, `${path}.list`, inContainer, report);
      return walkCondition(c.condition, `${path}.condition`, inContainer, report, params);
    case 'not':
      return walkCondition(c.condition, `${path}.condition`, inContainer, report, params);
    case 'all':
    case 'any':
      return c.conditions.forEach((x, i) => walkCondition(x, `${path}.conditions[${i}]`, inContainer, report, params));
    default:
      return assertNever(c, 'condition');
  }
}
