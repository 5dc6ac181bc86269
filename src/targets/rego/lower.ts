// IR → Rego template input. Each condition node becomes a small Rego function (`all` one body,
// `any` several bodies, `not` a negated call) that declares only what it reads: the item, the
// container `c`, both, or neither; one that reads neither is a rule, evaluated once per query
// (a pod-level memory basis is computed once, not per container). Values are read by direct
// references (`c.securityContext.privileged`), which are undefined, never an error, where a
// step is missing or of another type, so a wrong-typed value only makes a condition false and
// its owner's type check reports it. Every container check is in one rule that reads each
// container once (see containerRule). Report paths and the other facts are built only for a
// violation.

import type { Check, Condition, ContainerList, JsonType, NumberExpr, Pattern, Ref, Rule, RuleSet, Subject, Transform } from '../../ir/types.ts';
import { assertNever } from '../../ir/types.ts';
import { jsonObjectArrayPattern } from '../../ir/json-object-array.ts';
import { INT_STRING_MAX_DIGITS, PLAIN_KEY, plainKey, QUANTITY_MAX_BYTES, QUANTITY_MULTIPLIERS, QUANTITY_PATTERN, REGO_KEYWORDS } from '../../ir/semantics.ts';
import { regoString } from './escape.ts';

export interface RegoFunction {
  readonly name: string;
  /** `bool` for boolean functions (`f(…) if {…}`), else a value function (`f(…) := v if {…}`). */
  readonly output: 'bool' | 'value';
  readonly bodies: readonly (readonly string[])[];
  /** For value functions with several bodies: chain them with `else` (first defined wins). */
  readonly chain?: boolean;
  /** Its arguments: the item, the container, both, or neither (a rule OPA evaluates once per query). */
  readonly usesItem: boolean;
  readonly usesC: boolean;
  /** Arguments after the item and the container (the container's list and index, for a path). */
  readonly extra?: readonly string[];
}

export interface RegoCheck {
  /** The checks this rule reports, `<rule ID> <check ID>`. */
  readonly titles: readonly string[];
  /** The rule body: cheap guards, the subject, the condition and the facts (only for a violation). */
  readonly lines: readonly string[];
}

export interface RegoTemplateInput {
  readonly ruleSet: { readonly name: string; readonly title: string; readonly version: string };
  readonly packageName: string;
  readonly inputRuleId: string;
  readonly selectorParam: string;
  /** Kinds whose pod template is at spec.template. */
  readonly templateKinds: readonly string[];
  readonly cronJob: boolean;
  readonly ruleDefaults: readonly { readonly id: string; readonly action: string }[];
  readonly checks: readonly RegoCheck[];
  readonly quantity: { readonly pattern: string; readonly maxMilli: number; readonly multipliers: readonly { readonly suffix: string; readonly factor: number }[] };
  /** The regular expression of a key written `.key` in a report path. */
  readonly plainKeyPattern: string;
  readonly functions: readonly (RegoFunction & { readonly head: string })[];
  /**
   * Set for a Gatekeeper ConstraintTemplate's Rego: its entry point is `violation`, and the
   * parameters are the constraint's `lists` (input.parameters) over the `compiled` ones.
   */
  readonly gatekeeper: { readonly lists: readonly string[]; readonly compiled: Readonly<Record<string, unknown>> } | null;
}

const lit = (v: unknown): string => (typeof v === 'string' ? regoString(v) : JSON.stringify(v));
const setLit = (values: readonly string[]): string => `{${[...new Set(values)].sort().map(regoString).join(', ')}}`;

const KEYWORDS = new Set(REGO_KEYWORDS);

/** A direct reference `base.a.b["c-d"]`: undefined (never an error) where a step is missing or not an object. */
export function refPath(base: string, path: readonly string[]): string {
  return base + path.map((k) => (plainKey(k) && !KEYWORDS.has(k) ? `.${k}` : `[${regoString(k)}]`)).join('');
}

/**
 * The report path of keys below a base path, as the template's `_key_seg` writes it: `.key`, or
 * `["key"]` with the key as OPA's json.marshal writes it (Go's encoder: `<`, `>`, `&`, U+2028 and
 * U+2029 escaped) when it is not a plain identifier.
 */
export function pathSuffix(path: readonly string[]): string {
  return path
    .map((k) =>
      plainKey(k)
        ? `.${k}`
        : `[${JSON.stringify(k).replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)}]`,
    )
    .join('');
}

/** One piece of a report path: literal text, or a Rego expression for a string. */
type PathPart = { readonly text: string } | { readonly expr: string };

const indexPart = (i: string): PathPart[] => [{ text: '[' }, { expr: `format_int(${i}, 10)` }, { text: ']' }];
const keyPart = (k: string): PathPart => ({ expr: `_key_seg(${k})` });
/** A container's path: the variables `ln` (its list's name) and `ci` (its index) of a container subject. */
const containerBase: PathPart[] = [{ expr: '_spec_str' }, { text: '.' }, { expr: 'ln' }, ...indexPart('ci')];

/** The Rego expression for a path: one concat over its pieces (adjacent literals merged). */
function pathExpr(parts: readonly PathPart[]): string {
  const merged: PathPart[] = [];
  for (const p of parts) {
    const last = merged.at(-1);
    if ('text' in p && last && 'text' in last) merged[merged.length - 1] = { text: last.text + p.text };
    else if (!('text' in p && p.text === '')) merged.push(p);
  }
  if (merged.length === 1 && 'expr' in merged[0]!) return merged[0].expr;
  return `concat("", [${merged.map((p) => ('text' in p ? regoString(p.text) : p.expr)).join(', ')}])`;
}

/** A function's identity and what it needs from the caller. */
interface Fn {
  readonly name: string;
  readonly usesItem: boolean;
  readonly usesC: boolean;
  readonly extra?: readonly string[];
}

/** A call of `fn` with these expressions for the item and the container. */
function callOf(fn: Fn, item = 'item', c = 'c'): string {
  const args = [...(fn.usesItem ? [item] : []), ...(fn.usesC ? [c] : []), ...(fn.extra ?? [])];
  return args.length ? `${fn.name}(${args.join(', ')})` : fn.name;
}

class FunctionTable {
  private readonly byKey = new Map<string, Fn>();
  readonly functions: RegoFunction[] = [];

  constructor(private readonly prefix: string) {}

  /**
   * The body of a function to write in its caller's body instead of a call: one body that
   * binds no variable, called with the caller's own `item` and `c`.
   */
  inline(fn: Fn): readonly string[] | undefined {
    const f = this.functions.find((x) => x.name === fn.name);
    if (!f || f.bodies.length !== 1 || f.output !== 'bool') return undefined;
    const body = f.bodies[0]!;
    return body.some((l) => /:=|^some |^every /.test(l)) ? undefined : body;
  }

  /** Deduplicated by content: identical conditions share one function. */
  add(fn: Omit<RegoFunction, 'name'>): Fn {
    const key = JSON.stringify(fn);
    const known = this.byKey.get(key);
    if (known) return known;
    const name = `${this.prefix}${this.functions.length + 1}`;
    const out = { name, usesItem: fn.usesItem, usesC: fn.usesC, ...(fn.extra ? { extra: fn.extra } : {}) };
    this.byKey.set(key, out);
    this.functions.push({ name, ...fn });
    return out;
  }
}

/** A Rego expression for a reference, and what it reads. */
interface RefCode {
  readonly expr: string;
  readonly usesItem: boolean;
  readonly usesC: boolean;
  /** For `effective`: its helper functions (absence, where it was set). */
  readonly effective?: EffectiveFns;
}

interface EffectiveFns {
  readonly value: Fn;
  readonly absent: Fn;
  readonly path: Fn;
}

/** The tables a lowering writes to: conditions, numbers, and the effective-value helpers. */
interface Tables {
  readonly fns: FunctionTable;
  readonly nums: FunctionTable;
  readonly effs: FunctionTable;
}

/**
 * Ref `effective` (src/ir/types.ts) for one path: the container's value when set, else the pod's,
 * unless a step before the field (securityContext or an object on the way) is present, non-null
 * and not an object, in the container or, where the pod's value would be used, in the pod: then
 * the value is unknown, which counts as set and satisfies no test.
 */
function effectiveFns(path: readonly string[], t: Tables): EffectiveFns {
  const ctr = refPath('c.securityContext', path);
  const pod = refPath('_pod.securityContext', path);
  const stepsBefore = (base: string) =>
    path.map((_, k) => [`x := ${refPath(base, path.slice(0, k))}`, 'x != null', 'not is_object(x)']);
  const ctrUnknown = t.effs.add({ output: 'bool', bodies: stepsBefore('c.securityContext'), usesItem: false, usesC: true });
  const podUnknown = t.effs.add({ output: 'bool', bodies: stepsBefore('_pod.securityContext'), usesItem: false, usesC: false });
  const value = t.effs.add({
    output: 'value',
    chain: true,
    bodies: [
      [`v := ${ctr}`, 'v != null'],
      [`not ${callOf(ctrUnknown)}`, `v := ${pod}`, 'v != null'],
    ],
    usesItem: false,
    usesC: true,
  });
  // Set: the container's or the pod's value is not null (a `not` needs the reference inside a
  // function: OPA evaluates a reference in a negated comparison outside the negation).
  const ctrSet = t.effs.add({ output: 'bool', bodies: [[`${ctr} != null`]], usesItem: false, usesC: true });
  const podSet = t.effs.add({ output: 'bool', bodies: [[`${pod} != null`]], usesItem: false, usesC: false });
  const absent = t.effs.add({
    output: 'bool',
    bodies: [[`not ${callOf(ctrSet)}`, `not ${callOf(ctrUnknown)}`, `not ${callOf(podSet)}`, `not ${callOf(podUnknown)}`]],
    usesItem: false,
    usesC: true,
  });
  const suffix = pathSuffix(['securityContext', ...path]);
  const where = t.effs.add({
    output: 'value',
    chain: true,
    bodies: [
      [callOf(ctrSet), `v := ${pathExpr([...containerBase, { text: suffix }])}`],
      [`v := ${pathExpr([{ expr: '_spec_str' }, { text: suffix }])}`],
    ],
    usesItem: false,
    usesC: true,
    extra: ['ln', 'ci'],
  });
  return { value, absent, path: where };
}

function refCode(ref: Ref, t: Tables): RefCode {
  switch (ref.kind) {
    case 'item':
      return { expr: 'item', usesItem: true, usesC: false };
    case 'itemField':
      return { expr: refPath('item', ref.path), usesItem: true, usesC: false };
    case 'podField':
      return { expr: refPath('_pod', ref.path), usesItem: false, usesC: false };
    case 'containerField':
      return { expr: refPath('c', ref.path), usesItem: false, usesC: true };
    case 'effective': {
      const e = effectiveFns(ref.path, t);
      return { expr: callOf(e.value), usesItem: false, usesC: true, effective: e };
    }
    case 'annotation':
      return { expr: `_annotations[${regoString(ref.name)}]`, usesItem: false, usesC: false };
    default:
      return assertNever(ref, 'ref');
  }
}

/** Lines binding `s` to the transformed string of `x`; undefined for anything but a string. */
function transformLines(t: Transform | undefined, x: string, s: string): string[] {
  switch (t) {
    case undefined:
      return [`is_string(${x})`, `${s} := ${x}`];
    case 'upper':
      return [`is_string(${x})`, `${s} := upper(${x})`];
    case 'sysctlName':
      return [`is_string(${x})`, `${s} := replace(${x}, "/", ".")`];
    default:
      return assertNever(t, 'transform');
  }
}

/** Type tests on the bound variable `x`; `integer` is an int64 (src/ir/types.ts JsonType). */
function typeLines(type: JsonType, x: string): string[] {
  switch (type) {
    case 'string':
      return [`is_string(${x})`];
    case 'boolean':
      return [`is_boolean(${x})`];
    case 'number':
      return [`is_number(${x})`];
    case 'integer':
      return [`is_number(${x})`, `round(${x}) == ${x}`, `${x} >= ${INT64_MIN}`, `${x} <= ${INT64_MAX}`];
    case 'array':
      return [`is_array(${x})`];
    case 'object':
      return [`is_object(${x})`];
    default:
      return assertNever(type, 'JSON type');
  }
}

// int64's bounds as Rego number literals (JavaScript would round 2^63 - 1).
const INT64_MIN = '-9223372036854775808';
const INT64_MAX = '9223372036854775807';

function patternTest(p: Pattern, s: string): string {
  return p.kind === 'exact' ? `${s} == ${regoString(p.value)}` : `startswith(${s}, ${regoString(p.value)})`;
}

type Deps = { readonly usesItem: boolean; readonly usesC: boolean };

export function lowerCondition(c: Condition, t: Tables): Fn {
  const { fns } = t;
  const bool = (bodies: string[][], ...on: Deps[]) =>
    fns.add({ output: 'bool', bodies, usesItem: on.some((x) => x.usesItem), usesC: on.some((x) => x.usesC) });
  switch (c.kind) {
    case 'present': {
      const r = refCode(c.ref, t);
      return r.effective ? bool([[`not ${callOf(r.effective.absent)}`]], r) : bool([[`${r.expr} != null`]], r);
    }
    case 'absent': {
      // `not` of the present function: OPA evaluates a reference in a negated comparison
      // outside the negation, so `not x.a != null` would be false for a missing `a`.
      const r = refCode(c.ref, t);
      return r.effective ? bool([[callOf(r.effective.absent)]], r) : bool([[`not ${callOf(lowerCondition({ kind: 'present', ref: c.ref }, t))}`]], r);
    }
    case 'hasType': {
      const r = refCode(c.ref, t);
      return bool([[`x := ${r.expr}`, ...typeLines(c.type, 'x')]], r);
    }
    case 'equals': {
      // Rego compares JSON values by type (true is not 1, "0" is not 0), as the IR's equality does.
      const r = refCode(c.ref, t);
      return bool([[`${r.expr} == ${lit(c.value)}`]], r);
    }
    case 'oneOf': {
      const r = refCode(c.ref, t);
      return c.transform === undefined
        ? bool([[`${r.expr} in ${setLit(c.values)}`]], r)
        : bool([[`x := ${r.expr}`, ...transformLines(c.transform, 'x', 's'), `s in ${setLit(c.values)}`]], r);
    }
    case 'matchesAny': {
      const r = refCode(c.ref, t);
      return bool(
        c.patterns.map((p) => [`x := ${r.expr}`, ...transformLines(c.transform, 'x', 's'), patternTest(p, 's')]),
        r,
      );
    }
    case 'intRange': {
      // Bounds within int64's (as every range in a spec is) make its type test redundant.
      const r = refCode(c.ref, t);
      return bool([[`x := ${r.expr}`, 'is_number(x)', 'round(x) == x', `x >= ${c.min}`, `x <= ${c.max}`]], r);
    }
    case 'regex': {
      const r = refCode(c.ref, t);
      // `^.{N}` (a length bound): N characters before any line break, without compiling the
      // pattern, which opa-wasm does on every evaluation (about 0.5 ms for N = 254).
      const length = /^\^\.\{(\d+)\}$/.exec(c.pattern);
      if (length) return bool([[`x := ${r.expr}`, 'is_string(x)', `count(x) >= ${length[1]}`, `not contains(substring(x, 0, ${length[1]}), "\\n")`]], r);
      return bool([[`x := ${r.expr}`, 'is_string(x)', `regex.match(${regoString(c.pattern)}, x)`]], r);
    }
    case 'inParamList': {
      const r = refCode(c.ref, t);
      return bool(
        [
          [
            `x := ${r.expr}`,
            ...transformLines(c.transform, 'x', 's'),
            `some y in _param_list(${regoString(c.param)})`,
            ...transformLines(c.transform, 'y', 'z'),
            'z == s',
          ],
        ],
        r,
      );
    }
    case 'namespaceApproved':
      return bool([[`_namespace_approved(${regoString(c.param)})`]]);
    case 'numberDefined': {
      const n = lowerNumber(c.expr, t);
      return bool([[`is_number(${callOf(n)})`]], n);
    }
    case 'atMost': {
      const l = lowerNumber(c.left, t);
      const r = lowerNumber(c.right, t);
      return bool([[`l := ${callOf(l)}`, `r := ${callOf(r)}`, `l * ${c.leftScale} <= r * ${c.rightScale}`]], l, r);
    }
    case 'quantity': {
      const r = refCode(c.ref, t);
      return bool([[`is_number(_quantity_milli(${r.expr}))`]], r);
    }
    case 'someItem': {
      const list = refCode(c.list, t);
      const inner = lowerCondition(c.condition, t);
      return bool([[`list := ${list.expr}`, `is_array(list)`, `some el in list`, callOf(inner, 'el')]], list, { usesItem: false, usesC: inner.usesC });
    }
    case 'jsonObjectArray': {
      const r = refCode(c.ref, t);
      return bool([[`x := ${r.expr}`, 'is_string(x)', `regex.match(${regoString(jsonObjectArrayPattern(c.stringFields))}, x)`]], r);
    }
    case 'not': {
      const inner = lowerCondition(c.condition, t);
      return bool([[`not ${callOf(inner)}`]], inner);
    }
    case 'all': {
      const parts = c.conditions.map((x) => lowerCondition(x, t));
      return bool([parts.map((p) => callOf(p))], ...parts);
    }
    case 'any': {
      const parts = c.conditions.map((x) => lowerCondition(x, t));
      return bool(parts.map((p) => [callOf(p)]), ...parts);
    }
    default:
      return assertNever(c, 'condition');
  }
}

/**
 * Numbers are exact integers in thousandths (milli-units), so decimal quantities stay whole. A
 * number that reads only the pod (a memory basis) is a rule, evaluated once per query.
 */
export function lowerNumber(n: NumberExpr, t: Tables): Fn {
  const { nums } = t;
  const value = (bodies: string[][], chain: boolean, ...on: Deps[]) =>
    nums.add({ output: 'value', bodies, ...(chain ? { chain } : {}), usesItem: on.some((x) => x.usesItem), usesC: on.some((x) => x.usesC) });
  switch (n.kind) {
    case 'intString': {
      const r = refCode(n.ref, t);
      return value(
        [[`x := ${r.expr}`, `is_string(x)`, `regex.match(${regoString(`^[0-9]{1,${INT_STRING_MAX_DIGITS}}$`)}, x)`, `v := to_number(x) * 1000`]],
        false,
        r,
      );
    }
    case 'annotationQuantity':
      return value(
        [
          [
            `raw := _annotations[${regoString(n.annotation)}]`,
            `is_string(raw)`,
            `regex.match(${regoString(n.pattern)}, raw)`,
            `v := _quantity_milli(split(raw, ${regoString(n.separator)})[${n.part}])`,
          ],
        ],
        false,
      );
    case 'containerQuantitySum': {
      const first = value(
        n.fields.map((f) => [`v := ${refPath('item', f)}`, `v != null`]),
        true,
        { usesItem: true, usesC: false },
      );
      return value(
        [
          [
            `cs := ${refPath('_pod', [n.list])}`,
            `is_array(cs)`,
            `raws := [x | some ctr in cs; x := ${callOf(first, 'ctr')}]`,
            `count(raws) > 0`,
            `qs := [q | some x in raws; q := _quantity_milli(x)]`,
            `count(qs) == count(raws)`,
            `v := sum(qs)`,
          ],
        ],
        false,
      );
    }
    case 'firstDefined': {
      const options = n.options.map((o) => lowerNumber(o, t));
      return value(
        options.map((o) => [`v := ${callOf(o)}`]),
        true,
        ...options,
      );
    }
    default:
      return assertNever(n, 'number expression');
  }
}

/** What a subject contributes to a check's body. */
interface SubjectCode {
  /**
   * Lines binding `item`, cheapest first. For container subjects they run for one container
   * `c` (list `ln`, index `ci`) where the value at `node` is present: `$N` stands for it.
   */
  readonly lines: readonly string[];
  /** Where the item was read from (`at` is appended), or a function giving the whole path. */
  readonly path: readonly PathPart[] | { readonly fn: Fn };
  /** For container subjects: the path in the container of the value the lines start from. */
  readonly node?: readonly string[];
  /** For container subjects: lines choosing the container lists, if not every list. */
  readonly lists?: readonly string[];
}

/** Lines binding `item` for each subject item, and where each item was read from. */
export function subjectCode(s: Subject, t: Tables): SubjectCode {
  const inPod = (p: readonly string[]): PathPart[] => [{ expr: '_spec_str' }, { text: pathSuffix(p) }];
  const inContainer = (p: readonly string[]): PathPart[] => [...containerBase, { text: pathSuffix(p) }];
  const lists = (only?: readonly ContainerList[]) => (only ? [only.length === 1 ? `ln == ${regoString(only[0]!)}` : `ln in ${setLit(only)}`] : []);
  switch (s.kind) {
    case 'pod':
      return { lines: ['item := _pod'], path: inPod([]) };
    case 'podField':
      return { lines: [`item := ${refPath('_pod', s.path)}`, 'item != null'], path: inPod(s.path) };
    case 'podListItems':
      return {
        lines: [`list := ${refPath('_pod', s.path)}`, 'is_array(list)', 'some i, item in list'],
        path: [...inPod(s.path), ...indexPart('i')],
      };
    case 'podKeys':
      return {
        lines: [`obj := ${refPath('_pod', s.path)}`, 'is_object(obj)', 'some key, item in obj', `not key in ${setLit(s.except)}`, 'item != null'],
        path: [...inPod(s.path), keyPart('key')],
      };
    case 'podListItemKeys':
      return {
        lines: [
          `list := ${refPath('_pod', s.path)}`,
          'is_array(list)',
          'some i, el in list',
          'is_object(el)',
          'some key, item in el',
          `not key in ${setLit(s.except)}`,
          'item != null',
        ],
        path: [...inPod(s.path), ...indexPart('i'), keyPart('key')],
      };
    case 'annotationPrefix':
      return {
        lines: ['some key, item in _annotations', `startswith(key, ${regoString(s.prefix)})`, 'item != null'],
        path: [{ expr: '_meta_str' }, { text: '.annotations' }, keyPart('key')],
      };
    case 'annotation':
      return {
        lines: [`item := _annotations[${regoString(s.name)}]`, 'item != null'],
        path: [{ expr: '_meta_str' }, { text: pathSuffix(['annotations', s.name]) }],
      };
    case 'annotationJsonItems':
      return {
        lines: [
          `raw := _annotations[${regoString(s.name)}]`,
          'is_string(raw)',
          'json.is_valid(raw)',
          'arr := json.unmarshal(raw)',
          'is_array(arr)',
          'some el in arr',
          `item := ${refPath('el', [s.field])}`,
          'is_string(item)',
        ],
        path: [{ expr: '_meta_str' }, { text: pathSuffix(['annotations', s.name]) }],
      };
    case 'containerField':
      return { lines: ['item := $N'], path: inContainer(s.path), node: s.path, lists: lists(s.lists) };
    case 'containerListItems':
      return { lines: ['is_array($N)', 'some i, item in $N'], path: [...inContainer(s.path), ...indexPart('i')], node: s.path };
    case 'containerKeys':
      return {
        lines: ['is_object($N)', 'some key, item in $N', `not key in ${setLit(s.except)}`, 'item != null'],
        path: [...inContainer(s.path), keyPart('key')],
        node: s.path,
      };
    case 'effectiveField': {
      const e = effectiveFns(s.path, t);
      return { lines: [`item := ${callOf(e.value)}`], path: { fn: e.path }, node: [] };
    }
    default:
      return assertNever(s, 'subject');
  }
}

function actionExpr(ruleId: string, check: Check): string {
  return check.action === 'rule' ? `_rule_action(${regoString(ruleId)})` : regoString(check.action);
}

/** Only the arguments a function reads are declared, so the output passes `opa check --strict`. */
function functionHead(f: RegoFunction): string {
  const args = [...(f.usesItem ? ['item'] : []), ...(f.usesC ? ['c'] : []), ...(f.extra ?? [])];
  const call = args.length ? `${f.name}(${args.join(', ')})` : f.name;
  return f.output === 'bool' ? `${call} if` : `${call} := v if`;
}

/** One check: the lines binding its subject's items, and what it adds for each item. */
interface CheckCode {
  readonly title: string;
  /** `not "<rule ID>" in _rules_off`. */
  readonly enabled: string;
  readonly subject: SubjectCode;
  /** Lines for each item: guards, condition, and `v`, the violation. */
  readonly each: readonly string[];
  /** Guards that need no item (pod-level conditions). */
  readonly guards: readonly string[];
}

/** The code of one check: guards, subject, condition, and the facts of a violation. */
function checkCode(rule: Rule, check: Check, t: Tables): CheckCode {
  const subject = subjectCode(check.subject, t);
  // Leading conjuncts that read neither the item nor the container are rules evaluated once per
  // query: they go before the subject, so a check that does not apply stops at once. Later ones
  // keep their place (a memory basis is computed only for a pod that sets vm.min_free_kbytes).
  const conjuncts = (check.violation.kind === 'all' ? check.violation.conditions : [check.violation]).map((x) => lowerCondition(x, t));
  const podLevel = (f: Fn) => !f.usesItem && !f.usesC;
  const lead = conjuncts.findIndex((f) => !podLevel(f));
  const guards = lead < 0 ? conjuncts : conjuncts.slice(0, lead);
  const conds = lead < 0 ? [] : conjuncts.slice(lead);
  const at = check.at ?? [];
  const path = 'fn' in subject.path ? callOf(subject.path.fn) : pathExpr([...subject.path, { text: pathSuffix(at) }]);
  const container = rule.level === 'container' && subject.node ? 'c' : null;
  const facts = [
    `"rule": ${regoString(rule.id)}`,
    `"action": ${actionExpr(rule.id, check)}`,
    '"kind": _kind',
    '"namespace": _namespace',
    '"name": _name',
    `"path": ${path}`,
    `"value": ${at.length ? `_get(item, [${at.map(regoString).join(', ')}])` : 'item'}`,
    `"message": ${regoString(check.message)}`,
    ...(container ? ['"list": ln', `"container": object.get(${container}, "name", "")`] : []),
  ];
  const bindC = conds.some((f) => f.usesC) && !subject.node ? ['c := null'] : [];
  return {
    title: `${rule.id} ${check.id}`,
    enabled: `not ${regoString(rule.id)} in _rules_off`,
    subject,
    guards: guards.map((g) => callOf(g)),
    each: [...bindC, ...conds.flatMap((f) => t.fns.inline(f) ?? [callOf(f)]), `v := {${facts.join(', ')}}`],
  };
}

/**
 * Pod-level checks with the same subject share one rule, so the field or list is read once for
 * all of them: the rule's items, then each check's violations for the item (array
 * comprehensions, as in containerRule below).
 */
function groupBySubject(codes: readonly CheckCode[]): RegoCheck[] {
  const groups = new Map<string, CheckCode[]>();
  for (const code of codes) {
    const key = JSON.stringify(code.subject.lines);
    groups.set(key, [...(groups.get(key) ?? []), code]);
  }
  return [...groups.values()].map((g) => {
    // The rule-enabled test goes before the subject when every check of the group is one rule's.
    const oneRule = g.every((c) => c.enabled === g[0]!.enabled);
    const each = (c: CheckCode) => [...(oneRule ? [] : [c.enabled]), ...c.guards, ...c.each];
    const before = oneRule ? [g[0]!.enabled] : [];
    if (g.length === 1) return { titles: [g[0]!.title], lines: [...before, ...g[0]!.guards, ...g[0]!.subject.lines, ...g[0]!.each] };
    const sets = g.map((c) => `[w |\n\t\t${each(c).map((l) => l.replace(/^v := /, 'w := ')).join('\n\t\t')}\n\t]`);
    return { titles: g.map((c) => c.title), lines: [...before, ...g[0]!.subject.lines, `some s in [${sets.join(', ')}]`, 'some v in s'] };
  });
}

/** Container checks by where they read in a container: a trie of paths, each node's checks and children. */
interface Node {
  readonly leaves: CheckCode[];
  readonly children: Map<string, Node>;
}

/**
 * Every container check in one rule that reads each container once: below the container, an
 * array comprehension per check and per field on the way to a check's value, so a container
 * without a field costs one failed lookup for every check below it together. (Walking the
 * lists once per check cost about 2 µs per container and check in opa eval.)
 */
function containerRule(codes: readonly CheckCode[]): RegoCheck | undefined {
  if (codes.length === 0) return undefined;
  const root: Node = { leaves: [], children: new Map() };
  for (const code of codes) {
    let node = root;
    for (const key of code.subject.node!) {
      if (!node.children.has(key)) node.children.set(key, { leaves: [], children: new Map() });
      node = node.children.get(key)!;
    }
    node.leaves.push(code);
  }
  const render = (node: Node, value: string, depth: number): string[] => {
    const w = `w${depth}`;
    const sets: string[][] = [];
    for (const leaf of node.leaves) {
      // The rule-enabled test only for a violation: it is the same for every container.
      const body = [
        ...(leaf.subject.lists ?? []),
        ...leaf.guards,
        ...leaf.subject.lines.map((l) => l.replaceAll('$N', value)),
        ...leaf.each.slice(0, -1),
        leaf.enabled,
        leaf.each.at(-1)!.replace(/^v := /, `${w} := `),
      ].filter((l, i, all) => l !== all[i - 1]); // a subject's `item != null` and a condition's, once
      sets.push([`[${w} |`, ...body.map((l) => `\t${l}`), ']']);
    }
    for (const [key, child] of node.children) {
      // A field with one field below it and no check of its own: one lookup for both.
      const path = [key];
      let next = child;
      while (next.leaves.length === 0 && next.children.size === 1) {
        const [k, only] = [...next.children][0]!;
        path.push(k);
        next = only;
      }
      const n = `n${depth}`;
      const inner = render(next, n, depth + 1);
      sets.push([`[${w} |`, `\t${n} := ${refPath(value, path)}`, `\t${n} != null`, ...iterate(inner, w, depth + 1).map((l) => `\t${l}`), ']']);
    }
    if (sets.length === 1) return sets[0]!;
    // Arrays, not sets: a set hashes a violation (ten facts) on every insertion, and the union
    // `A | B | C` copies A's into each new set on the way; an array appends. `violations` is the
    // one set, so it still removes duplicates. In opa-wasm, the eci typical pod's six warnings
    // cost 188 µs with set unions and 111 µs with arrays (npx tsx bench/rego-eval.ts; issue 12).
    const out: string[] = [];
    sets.forEach((set, k) => {
      if (k === 0) out.push(...set);
      else {
        out[out.length - 1] = `${out[out.length - 1]}, ${set[0]}`;
        out.push(...set.slice(1));
      }
    });
    return [`[${out[0]}`, ...out.slice(1, -1), `${out.at(-1)}]`];
  };
  /** `some <w> in <sets>`: through `some s<k> in [..]` when `sets` is an array of comprehensions. */
  const iterate = (sets: string[], w: string, depth: number): string[] =>
    sets[0]!.startsWith('[[')
      ? [`some s${depth} in ${sets[0]}`, ...sets.slice(1), `some ${w} in s${depth}`]
      : [`some ${w} in ${sets[0]}`, ...sets.slice(1)];
  const body = render(root, 'c', 1);
  return {
    titles: codes.map((c) => c.title),
    lines: ['cs := _lists[ln]', 'some ci, c in cs', 'is_object(c)', ...iterate(body, 'v', 1)],
  };
}

export function lowerRuleSet(rs: RuleSet): RegoTemplateInput {
  const t: Tables = { fns: new FunctionTable('_cond_'), nums: new FunctionTable('_num_'), effs: new FunctionTable('_eff_') };
  const codes = rs.rules.flatMap((rule) => rule.checks.map((check) => checkCode(rule, check, t)));
  const inContainers = containerRule(codes.filter((c) => c.subject.node));
  const checks = [...groupBySubject(codes.filter((c) => !c.subject.node)), ...(inContainers ? [inContainers] : [])];
  return {
    ruleSet: { name: rs.name, title: rs.title, version: rs.version },
    packageName: rs.name,
    inputRuleId: rs.inputRule.id,
    selectorParam: rs.selectorParam,
    templateKinds: rs.podControllers.filter((k) => k !== 'CronJob'),
    cronJob: rs.podControllers.includes('CronJob'),
    ruleDefaults: rs.rules.map((r) => ({ id: r.id, action: r.action })),
    plainKeyPattern: PLAIN_KEY.source,
    quantity: {
      pattern: QUANTITY_PATTERN,
      maxMilli: QUANTITY_MAX_BYTES * 1000,
      multipliers: Object.entries(QUANTITY_MULTIPLIERS).map(([suffix, factor]) => ({ suffix, factor })),
    },
    checks,
    functions: [...t.effs.functions, ...t.fns.functions, ...t.nums.functions].map((f) => ({ ...f, head: functionHead(f) })),
    gatekeeper: null,
  };
}
