// Parameter files: YAML read with `yaml` (keeping node positions), validated with ajv against
// the rule set's parameter schema, then checked for values the schema accepts but that
// contradict the rule set (semanticProblems); every error names the key and its line.

import { Ajv, type ValidateFunction } from 'ajv';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { Diagnostic, Result } from './diagnostics.ts';
import { fail, ok } from './diagnostics.ts';
import { paramsSchema } from './schema.ts';
import { applyTransform } from './semantics.ts';
import type { Condition, NumberExpr, Param, ParamValues, Ref, Rule, RuleSet, Subject, Transform } from './types.ts';
import { assertNever } from './types.ts';

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validators = new WeakMap<RuleSet, ValidateFunction>();

function validatorFor(rs: RuleSet): ValidateFunction {
  let v = validators.get(rs);
  if (!v) {
    v = ajv.compile(paramsSchema(rs));
    validators.set(rs, v);
  }
  return v;
}

/** The node at a JSON pointer; with `key`, the last step's key node (where a bad key is written). */
function nodeAt(root: Node | null | undefined, instancePath: string, key = false): Node | undefined {
  let node: unknown = root;
  const steps = instancePath.split('/').slice(1);
  for (const [i, raw] of steps.entries()) {
    const name = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (isMap(node)) {
      // Compared as strings: toJS turns a key like `1` or `true` into the property name "1", "true".
      const pair = node.items.find((p) => {
        const k = (p.key as { value?: unknown } | null)?.value;
        return k !== undefined && k !== null && String(k) === name;
      });
      node = key && i === steps.length - 1 ? pair?.key : (pair?.value ?? pair?.key);
    } else if (isSeq(node)) node = node.items[Number(name)];
    else return undefined;
  }
  return (node as Node | undefined) ?? undefined;
}

/** Parse and validate a parameter file's text. `file` names it in diagnostics. */
export function parseParams(rs: RuleSet, text: string, file: string): Result<ParamValues> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const lineOf = (offset: number | undefined) => (offset === undefined ? undefined : lineCounter.linePos(offset));
  if (doc.errors.length) {
    return fail(
      doc.errors.map((e) => {
        const pos = lineOf(e.pos[0]);
        return { code: 'params-yaml', message: e.message.split('\n')[0] ?? e.message, file, ...(pos ? { line: pos.line, column: pos.col } : {}) };
      }),
    );
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  const validate = validatorFor(rs);
  if (validate(value)) {
    const problems = semanticProblems(rs, value as ParamValues);
    if (!problems.length) return ok(value as ParamValues);
    const located = problems.map((p) => {
      const pointer = p.at.map((s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
      const node = nodeAt(doc.contents, `/${pointer}`, p.key);
      const pos = lineOf(node?.range?.[0]);
      return { code: p.code, message: p.message, file, path: p.at.join('.'), ...(pos ? { line: pos.line, column: pos.col } : {}) };
    });
    // In file order (the sort is stable); one without a position (none expected) goes last.
    const lineKey = (d: Diagnostic) => d.line ?? Number.MAX_SAFE_INTEGER;
    return fail(located.sort((a, b) => lineKey(a) - lineKey(b)));
  }
  const errors: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of validate.errors ?? []) {
    // ajv reports a bad key twice: the inner check (with propertyName) and `propertyNames`.
    if (e.propertyName !== undefined) continue;
    const extra =
      e.params && 'additionalProperty' in e.params
        ? `/${String(e.params['additionalProperty'])}`
        : e.keyword === 'propertyNames' && e.params && 'propertyName' in e.params
          ? `/${String(e.params['propertyName'])}`
          : '';
    const missing = e.params && 'missingProperty' in e.params ? String(e.params['missingProperty']) : undefined;
    const keyPath = `${e.instancePath}${extra}`;
    const key = keyPath.split('/').slice(1).join('.') || (missing ?? '(root)');
    const msg =
      e.keyword === 'additionalProperties'
        ? `unknown parameter ${key}`
        : e.keyword === 'required'
          ? `missing parameter ${missing}`
          : e.keyword === 'propertyNames'
            ? `${e.instancePath.split('/').slice(1).join('.')}: ${String(e.params['propertyName'])} is not a rule of ${rs.name}`
            : `${key} ${e.message ?? 'is invalid'}${'allowedValues' in e.params ? ` (${(e.params['allowedValues'] as unknown[]).map(String).join(', ')})` : ''}`;
    const sig = `${keyPath}|${msg}`;
    if (seen.has(sig)) continue;
    seen.add(sig);
    const badKey = e.keyword === 'additionalProperties' || e.keyword === 'propertyNames';
    const node = nodeAt(doc.contents, keyPath, badKey) ?? nodeAt(doc.contents, e.instancePath);
    const pos = lineOf(node?.range?.[0]);
    errors.push({ code: 'params-invalid', message: msg, file, path: key, ...(pos ? { line: pos.line, column: pos.col } : {}) });
  }
  return fail(errors);
}

/** Validate parameter values given as data (e.g. a fixture's overrides merged over a file). */
export function validateParamValues(rs: RuleSet, value: unknown, where: string): Result<ParamValues> {
  const validate = validatorFor(rs);
  if (validate(value)) {
    const problems = semanticProblems(rs, value as ParamValues);
    if (!problems.length) return ok(value as ParamValues);
    // No positions here: `where` names the values (e.g. a fixture) and `path` the offending key.
    return fail(problems.map((p) => ({ code: p.code, message: p.message, file: where, path: p.at.join('.') })));
  }
  return fail(
    (validate.errors ?? []).map((e) => ({
      code: 'params-invalid',
      message: `${e.instancePath.split('/').slice(1).join('.') || '(root)'} ${e.message ?? 'is invalid'}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params['additionalProperty'])}` : ''}`,
      file: where,
    })),
  );
}

// ---- Semantic checks: schema-valid values that contradict the rule set ------------------------

/** One parameter read by a condition, with the transform its entries are compared through. */
interface Read {
  readonly param: string;
  readonly transform: Transform | undefined;
}

/**
 * The parameters each node reads. Exhaustive over the IR's closed unions: a new node kind is a
 * compile error here until it says whether it reads a parameter.
 */
function conditionReads(c: Condition): Read[] {
  switch (c.kind) {
    case 'present':
    case 'absent':
    case 'hasType':
    case 'equals':
    case 'oneOf':
    case 'matchesAny':
    case 'intRange':
    case 'regex':
    case 'quantity':
    case 'jsonObjectArray':
      return refReads(c.ref);
    case 'inParamList':
      return [{ param: c.param, transform: c.transform }, ...refReads(c.ref)];
    case 'namespaceApproved':
      return [{ param: c.param, transform: undefined }];
    case 'numberDefined':
      return numberReads(c.expr);
    case 'atMost':
      return [...numberReads(c.left), ...numberReads(c.right)];
    case 'someItem':
      return [...refReads(c.list), ...conditionReads(c.condition)];
    case 'not':
      return conditionReads(c.condition);
    case 'all':
    case 'any':
      return c.conditions.flatMap(conditionReads);
    default:
      return assertNever(c, 'condition');
  }
}

function numberReads(n: NumberExpr): Read[] {
  switch (n.kind) {
    case 'intString':
      return refReads(n.ref);
    case 'annotationQuantity':
    case 'containerQuantitySum':
      return [];
    case 'firstDefined':
      return n.options.flatMap(numberReads);
    default:
      return assertNever(n, 'number expression');
  }
}

function refReads(r: Ref): Read[] {
  switch (r.kind) {
    case 'item':
    case 'itemField':
    case 'podField':
    case 'containerField':
    case 'effective':
    case 'annotation':
      return [];
    default:
      return assertNever(r, 'ref');
  }
}

function subjectReads(s: Subject): Read[] {
  switch (s.kind) {
    case 'pod':
    case 'podField':
    case 'podListItems':
    case 'podKeys':
    case 'podListItemKeys':
    case 'annotation':
    case 'annotationPrefix':
    case 'annotationJsonItems':
    case 'containerField':
    case 'containerListItems':
    case 'containerKeys':
    case 'effectiveField':
      return [];
    default:
      return assertNever(s, 'subject');
  }
}

/** Every parameter read by a rule's checks (subjects and violation conditions), as read. */
function ruleReads(rule: Rule): Read[] {
  return rule.checks.flatMap((check) => [...subjectReads(check.subject), ...conditionReads(check.violation)]);
}

/**
 * The parameters a rule reads, each once, in the order its checks first read them. Found by
 * walking the IR, so a spec never has to name them twice (the reference docs list them).
 */
export function paramsReadBy(rule: Rule): string[] {
  return [...new Set(ruleReads(rule).map((r) => r.param))];
}

interface Reader {
  readonly rule: Rule;
  readonly transform: Transform | undefined;
}

const readersCache = new WeakMap<RuleSet, ReadonlyMap<string, readonly Reader[]>>();

/** For each parameter, the rules whose checks read it (a rule once per transform). */
function readersOf(rs: RuleSet): ReadonlyMap<string, readonly Reader[]> {
  let readers = readersCache.get(rs);
  if (!readers) {
    const m = new Map<string, Reader[]>();
    for (const rule of rs.rules)
      for (const read of ruleReads(rule)) {
        const list = m.get(read.param) ?? [];
        if (!list.some((r) => r.rule === rule && r.transform === read.transform)) list.push({ rule, transform: read.transform });
        m.set(read.param, list);
      }
    readers = m;
    readersCache.set(rs, readers);
  }
  return readers;
}

/** A problem with schema-valid values, at a path of keys and indexes (`key`: at the last key). */
interface Problem {
  readonly code: 'params-contradictory' | 'params-duplicate' | 'params-invalid';
  readonly message: string;
  readonly at: readonly (string | number)[];
  readonly key: boolean;
}

/** An entry as written, quoted when it holds anything but printable ASCII or a comma. */
const shown = (s: string): string => (/^[\x21-\x7e]+$/.test(s) && !s.includes(',') ? s : JSON.stringify(s));

function listed(entries: readonly string[]): string {
  const max = 5;
  const head = entries.slice(0, max).map(shown).join(', ');
  return entries.length > max ? `${head} and ${entries.length - max} more` : head;
}

// Kubernetes label syntax (a selector key or value outside it can never match a pod):
// https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const NAME_RULE = 'at most 63 letters, digits, -, _ and ., beginning and ending with a letter or digit';

function labelKeyProblem(key: string): string | undefined {
  const slash = key.indexOf('/');
  const name = slash < 0 ? key : key.slice(slash + 1);
  if (slash >= 0) {
    const prefix = key.slice(0, slash);
    if (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))
      return 'the prefix before / must be a DNS subdomain: at most 253 lower-case letters, digits, - and ., each dot-separated part beginning and ending with a letter or digit';
  }
  if (name.length > 63 || !LABEL_NAME.test(name)) return `the name${slash >= 0 ? ' after /' : ''} must be ${NAME_RULE}`;
  return undefined;
}

function labelValueProblem(value: string): string | undefined {
  return value === '' || (value.length <= 63 && LABEL_NAME.test(value)) ? undefined : `a value must be empty or ${NAME_RULE}`;
}

/** Problems the schema cannot see, all of them; `v` is schema-valid. */
function semanticProblems(rs: RuleSet, v: ParamValues): Problem[] {
  const problems: Problem[] = [];
  const readers = readersOf(rs);
  const offEverywhere = (name: string): string | undefined => {
    const rules = [...new Set((readers.get(name) ?? []).map((r) => r.rule))];
    const off = rules.length > 0 && rules.every((r) => (v.actions[r.id] ?? r.action) === 'off');
    return off ? rules.map((r) => r.id).join(', ') : undefined;
  };
  const grants = (name: string, entries: readonly string[]) => {
    const off = entries.length ? offEverywhere(name) : undefined;
    if (off)
      problems.push({
        code: 'params-contradictory',
        message: `${name} approves ${listed(entries)}, but every rule reading it is off (${off})`,
        at: [name],
        key: true,
      });
  };
  for (const p of rs.params) {
    const value = v[p.name];
    switch (p.type.kind) {
      case 'stringList': {
        const entries = value as readonly string[];
        grants(p.name, entries);
        // Entries that the reading rule compares as one (after its transform) are one entry.
        const reported = new Set<number>();
        for (const r of readers.get(p.name) ?? []) {
          if (r.transform === undefined) continue; // distinct as written: the schema's uniqueItems
          const first = new Map<string, number>();
          entries.forEach((e, i) => {
            const norm = applyTransform(r.transform, e);
            const j = first.get(norm);
            if (j === undefined) first.set(norm, i);
            else if (!reported.has(i)) {
              reported.add(i);
              problems.push({
                code: 'params-duplicate',
                message: `${p.name} lists ${shown(entries[j]!)} and ${shown(e)}, which ${r.rule.id} compares as one (${shown(norm)} after the ${r.transform} transform); keep one`,
                at: [p.name, i],
                key: false,
              });
            }
          });
        }
        break;
      }
      case 'namespaceApproval': {
        if (value === false) break;
        const entries = value as readonly string[];
        if (entries.length === 0)
          problems.push({ code: 'params-contradictory', message: `${p.name} approves no namespace; write false`, at: [p.name], key: true });
        grants(p.name, entries);
        break;
      }
      case 'labelSelector': {
        const labels = (value as { readonly matchLabels: Readonly<Record<string, string>> }).matchLabels;
        for (const [k, val] of Object.entries(labels)) {
          const keyWhy = labelKeyProblem(k);
          if (keyWhy)
            problems.push({
              code: 'params-invalid',
              message: `${p.name}.matchLabels key ${JSON.stringify(k)} is not a valid Kubernetes label key, so it can never match a pod: ${keyWhy}`,
              at: [p.name, 'matchLabels', k],
              key: true,
            });
          const valueWhy = labelValueProblem(val);
          if (valueWhy)
            problems.push({
              code: 'params-invalid',
              message: `${p.name}.matchLabels value ${JSON.stringify(val)} (of ${JSON.stringify(k)}) is not a valid Kubernetes label value, so it can never match a pod: ${valueWhy}`,
              at: [p.name, 'matchLabels', k],
              key: true,
            });
        }
        break;
      }
      default:
        return assertNever(p.type, 'parameter type');
    }
  }
  return problems;
}

/** Parameters that approve nothing and select every pod: the starting point for a library caller. */
export function defaultParamValues(rs: RuleSet): ParamValues {
  const values: Record<string, unknown> = { actions: {} };
  for (const p of rs.params) {
    values[p.name] = p.type.kind === 'stringList' ? [] : p.type.kind === 'namespaceApproval' ? false : { matchLabels: {} };
  }
  return values as ParamValues;
}

/** The selector's matchLabels: the labels a pod (template) must carry to be checked; `{}` selects every pod. */
export function selectorLabels(rs: RuleSet, params: ParamValues): Readonly<Record<string, string>> {
  return (params[rs.selectorParam] as { matchLabels?: Record<string, string> } | undefined)?.matchLabels ?? {};
}

/** The parameters that are lists of strings (allowlists, namespace approvals). */
export function listParams(rs: RuleSet): readonly Param[] {
  return rs.params.filter((p) => p.type.kind === 'stringList' || p.type.kind === 'namespaceApproval');
}
