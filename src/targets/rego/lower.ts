// IR → Rego template input. Each condition node becomes a small Rego function of (item, c)
// (c: the container context, or null for pod-level checks): `all` is one body, `any` several
// bodies, `not` a negated call. A function is defined or undefined, never an error, so a
// wrong-typed value can only make a condition false, which the owner's type check reports.

import type { Check, Condition, NumberExpr, Pattern, Ref, RuleSet, Subject, Transform } from '../../ir/types.ts';
import { assertNever } from '../../ir/types.ts';
import { jsonObjectArrayPattern } from '../../ir/json-object-array.ts';
import { INT_STRING_MAX_DIGITS, QUANTITY_MAX_BYTES, QUANTITY_MULTIPLIERS, QUANTITY_PATTERN } from '../../ir/semantics.ts';
import { regoString } from './escape.ts';

export interface RegoFunction {
  readonly name: string;
  /** `true` for boolean functions (`f(item, c) if {…}`), else an output variable name. */
  readonly output: 'bool' | 'value';
  readonly bodies: readonly (readonly string[])[];
  /** For value functions with several bodies: chain them with `else` (first defined wins). */
  readonly chain?: boolean;
}

export interface RegoCheck {
  readonly ruleId: string;
  /** `c` for per-container rules; `null` for pod-level rules, whose reports name no container. */
  readonly container: 'c' | 'null';
  readonly checkId: string;
  readonly message: string;
  /** The action expression (Rego) for this check. */
  readonly action: string;
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
  readonly functions: readonly (RegoFunction & { readonly head: string })[];
}

const lit = (v: unknown): string => (typeof v === 'string' ? regoString(v) : JSON.stringify(v));
const pathLit = (p: readonly string[]): string => `[${p.map(regoString).join(', ')}]`;
const setLit = (values: readonly string[]): string => `{${[...new Set(values)].sort().map(regoString).join(', ')}}`;

class FunctionTable {
  private readonly byKey = new Map<string, string>();
  readonly functions: RegoFunction[] = [];

  constructor(private readonly prefix: string) {}

  /** Deduplicated by content: identical conditions share one function. */
  add(fn: Omit<RegoFunction, 'name'>): string {
    const key = JSON.stringify(fn);
    const known = this.byKey.get(key);
    if (known) return known;
    const name = `${this.prefix}${this.functions.length + 1}`;
    this.byKey.set(key, name);
    this.functions.push({ name, ...fn });
    return name;
  }
}

function refExpr(ref: Ref): string {
  switch (ref.kind) {
    case 'item':
      return 'item';
    case 'itemField':
      return `_get(item, ${pathLit(ref.path)})`;
    case 'podField':
      return `_get(_pod, ${pathLit(ref.path)})`;
    case 'containerField':
      return `_get(c.spec, ${pathLit(ref.path)})`;
    case 'effective':
      return `_effective_value(c, ${pathLit(ref.path)})`;
    case 'annotation':
      return `_get(_annotations, [${regoString(ref.name)}])`;
    default:
      return assertNever(ref, 'ref');
  }
}

function transformFn(t: Transform | undefined): string {
  switch (t) {
    case undefined:
      return '_t_string';
    case 'upper':
      return '_t_upper';
    case 'sysctlName':
      return '_t_sysctl_name';
    default:
      return assertNever(t, 'transform');
  }
}

function patternLit(p: Pattern): string {
  return `{"kind": ${regoString(p.kind)}, "value": ${regoString(p.value)}}`;
}

export function lowerCondition(c: Condition, fns: FunctionTable, nums: FunctionTable): string {
  const bool = (bodies: string[][]) => fns.add({ output: 'bool', bodies });
  const call = (name: string) => `${name}(item, c)`;
  switch (c.kind) {
    case 'present':
      return bool([[`${refExpr(c.ref)} != null`]]);
    case 'absent':
      return bool([[`${refExpr(c.ref)} == null`]]);
    case 'hasType':
      return bool([[`_has_type(${refExpr(c.ref)}, ${regoString(c.type)})`]]);
    case 'equals':
      return bool([[`x := ${refExpr(c.ref)}`, `_has_type(x, ${regoString(typeof c.value === 'number' ? 'number' : typeof c.value)})`, `x == ${lit(c.value)}`]]);
    case 'oneOf':
      return bool([[`${transformFn(c.transform)}(${refExpr(c.ref)}) in ${setLit(c.values)}`]]);
    case 'matchesAny':
      return bool([
        [
          `s := ${transformFn(c.transform)}(${refExpr(c.ref)})`,
          `some p in [${c.patterns.map(patternLit).join(', ')}]`,
          `_pattern_match(s, p)`,
        ],
      ]);
    case 'intRange':
      return bool([[`x := ${refExpr(c.ref)}`, `_has_type(x, "integer")`, `x >= ${c.min}`, `x <= ${c.max}`]]);
    case 'regex':
      return bool([[`x := ${refExpr(c.ref)}`, `is_string(x)`, `regex.match(${regoString(c.pattern)}, x)`]]);
    case 'inParamList':
      return bool([
        [
          `x := ${transformFn(c.transform)}(${refExpr(c.ref)})`,
          `some y in _param_list(${regoString(c.param)})`,
          `${transformFn(c.transform)}(y) == x`,
        ],
      ]);
    case 'namespaceApproved':
      return bool([[`_namespace_approved(${regoString(c.param)})`]]);
    case 'numberDefined':
      return bool([[`is_number(${lowerNumber(c.expr, nums)}(item, c))`]]);
    case 'atMost':
      return bool([
        [
          `l := ${lowerNumber(c.left, nums)}(item, c)`,
          `r := ${lowerNumber(c.right, nums)}(item, c)`,
          `l * ${c.leftScale} <= r * ${c.rightScale}`,
        ],
      ]);
    case 'quantity':
      return bool([[`is_number(_quantity_milli(${refExpr(c.ref)}))`]]);
    case 'someItem': {
      const inner = lowerCondition(c.condition, fns, nums);
      return bool([[`list := ${refExpr(c.list)}`, `is_array(list)`, `some el in list`, `${inner}(el, c)`]]);
    }
    case 'jsonObjectArray':
      return bool([[`x := ${refExpr(c.ref)}`, 'is_string(x)', `regex.match(${regoString(jsonObjectArrayPattern(c.stringFields))}, x)`]]);
    case 'not':
      return bool([[`not ${call(lowerCondition(c.condition, fns, nums))}`]]);
    case 'all':
      return bool([c.conditions.map((x) => call(lowerCondition(x, fns, nums)))]);
    case 'any':
      return bool(c.conditions.map((x) => [call(lowerCondition(x, fns, nums))]));
    default:
      return assertNever(c, 'condition');
  }
}

/** Numbers are exact integers in thousandths (milli-units), so decimal quantities stay whole. */
export function lowerNumber(n: NumberExpr, nums: FunctionTable): string {
  const value = (bodies: string[][], chain = false) => nums.add({ output: 'value', bodies, ...(chain ? { chain } : {}) });
  switch (n.kind) {
    case 'intString':
      return value([
        [
          `x := ${refExpr(n.ref)}`,
          `is_string(x)`,
          `regex.match(${regoString(`^[0-9]{1,${INT_STRING_MAX_DIGITS}}$`)}, x)`,
          `v := to_number(x) * 1000`,
        ],
      ]);
    case 'annotationQuantity':
      return value([
        [
          `raw := ${refExpr({ kind: 'annotation', name: n.annotation })}`,
          `is_string(raw)`,
          `regex.match(${regoString(n.pattern)}, raw)`,
          `v := _quantity_milli(split(raw, ${regoString(n.separator)})[${n.part}])`,
        ],
      ]);
    case 'containerQuantitySum': {
      const first = value(
        n.fields.map((f) => [`x := _get(item, ${pathLit(f)})`, `x != null`, `v := x`]),
        true,
      );
      return value([
        [
          `cs := _get(_pod, [${regoString(n.list)}])`,
          `is_array(cs)`,
          `raws := [x | some ctr in cs; x := ${first}(ctr, c)]`,
          `count(raws) > 0`,
          `qs := [q | some x in raws; q := _quantity_milli(x)]`,
          `count(qs) == count(raws)`,
          `v := sum(qs)`,
        ],
      ]);
    }
    case 'firstDefined':
      return value(
        n.options.map((o) => [`v := ${lowerNumber(o, nums)}(item, c)`]),
        true,
      );
    default:
      return assertNever(n, 'number expression');
  }
}

/** Lines binding `item`, `segs` (path from the resource root) and `c` for each subject item. */
export function subjectLines(s: Subject): string[] {
  const inPod = (p: readonly string[]) => `array.concat(_spec_path, ${pathLit(p)})`;
  const inContainer = (p: readonly string[]) => `array.concat(_spec_path, array.concat([c.list, c.index], ${pathLit(p)}))`;
  switch (s.kind) {
    case 'pod':
      return ['c := null', 'item := _pod', 'segs := _spec_path'];
    case 'podField':
      return ['c := null', `item := _get(_pod, ${pathLit(s.path)})`, 'item != null', `segs := ${inPod(s.path)}`];
    case 'podListItems':
      return [
        'c := null',
        `list := _get(_pod, ${pathLit(s.path)})`,
        'is_array(list)',
        'some i, item in list',
        `segs := array.concat(${inPod(s.path)}, [i])`,
      ];
    case 'podKeys':
      return [
        'c := null',
        `obj := _get(_pod, ${pathLit(s.path)})`,
        'is_object(obj)',
        'some key, item in obj',
        `not key in ${setLit(s.except)}`,
        'item != null',
        `segs := array.concat(${inPod(s.path)}, [key])`,
      ];
    case 'podListItemKeys':
      return [
        'c := null',
        `list := _get(_pod, ${pathLit(s.path)})`,
        'is_array(list)',
        'some i, el in list',
        'is_object(el)',
        'some key, item in el',
        `not key in ${setLit(s.except)}`,
        'item != null',
        `segs := array.concat(${inPod(s.path)}, [i, key])`,
      ];
    case 'annotationPrefix':
      return [
        'c := null',
        'some key, item in _annotations',
        `startswith(key, ${regoString(s.prefix)})`,
        'item != null',
        `segs := array.concat(_meta_path, ["annotations", key])`,
      ];
    case 'annotation':
      return [
        'c := null',
        `item := _get(_annotations, [${regoString(s.name)}])`,
        'item != null',
        `segs := array.concat(_meta_path, ["annotations", ${regoString(s.name)}])`,
      ];
    case 'annotationJsonItems':
      return [
        'c := null',
        `raw := _get(_annotations, [${regoString(s.name)}])`,
        'is_string(raw)',
        'json.is_valid(raw)',
        'arr := json.unmarshal(raw)',
        'is_array(arr)',
        'some el in arr',
        `item := _get(el, [${regoString(s.field)}])`,
        'is_string(item)',
        `segs := array.concat(_meta_path, ["annotations", ${regoString(s.name)}])`,
      ];
    case 'containerField':
      return [
        'some c in _containers',
        ...(s.lists ? [`c.list in ${setLit(s.lists)}`] : []),
        `item := _get(c.spec, ${pathLit(s.path)})`,
        'item != null',
        `segs := ${inContainer(s.path)}`,
      ];
    case 'containerListItems':
      return [
        'some c in _containers',
        `list := _get(c.spec, ${pathLit(s.path)})`,
        'is_array(list)',
        'some i, item in list',
        `segs := array.concat(${inContainer(s.path)}, [i])`,
      ];
    case 'containerKeys':
      return [
        'some c in _containers',
        `obj := _get(c.spec, ${pathLit(s.path)})`,
        'is_object(obj)',
        'some key, item in obj',
        `not key in ${setLit(s.except)}`,
        'item != null',
        `segs := array.concat(${inContainer(s.path)}, [key])`,
      ];
    case 'effectiveField':
      return [
        'some c in _containers',
        `e := _effective(c, ${pathLit(s.path)})`,
        'item := e.value',
        'segs := array.concat(_spec_path, e.segs)',
      ];
    default:
      return assertNever(s, 'subject');
  }
}

function actionExpr(ruleId: string, check: Check): string {
  return check.action === 'rule' ? `_rule_action(${regoString(ruleId)})` : regoString(check.action);
}

/** Unused arguments are written `_`, so the output passes `opa check --strict`. */
function functionHead(f: RegoFunction): string {
  const code = f.bodies.flat().join('\n').replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const arg = (name: string) => (new RegExp(`\\b${name}\\b`).test(code) ? name : '_');
  const args = `${arg('item')}, ${arg('c')}`;
  return f.output === 'bool' ? `${f.name}(${args}) if` : `${f.name}(${args}) := v if`;
}

export function lowerRuleSet(rs: RuleSet): RegoTemplateInput {
  const fns = new FunctionTable('_cond_');
  const nums = new FunctionTable('_num_');
  const checks: RegoCheck[] = [];
  for (const rule of rs.rules) {
    for (const check of rule.checks) {
      const cond = lowerCondition(check.violation, fns, nums);
      const at = check.at ?? [];
      checks.push({
        ruleId: rule.id,
        container: rule.level === 'container' ? 'c' : 'null',
        checkId: check.id,
        message: check.message,
        action: actionExpr(rule.id, check),
        lines: [
          `_rule_enabled(${regoString(rule.id)})`,
          ...subjectLines(check.subject),
          `${cond}(item, c)`,
          ...(at.length
            ? [`vsegs := array.concat(segs, ${pathLit(at)})`, `value := _get(item, ${pathLit(at)})`]
            : ['vsegs := segs', 'value := item']),
        ],
      });
    }
  }
  return {
    ruleSet: { name: rs.name, title: rs.title, version: rs.version },
    packageName: rs.name,
    inputRuleId: rs.inputRule.id,
    selectorParam: rs.selectorParam,
    templateKinds: rs.podControllers.filter((k) => k !== 'CronJob'),
    cronJob: rs.podControllers.includes('CronJob'),
    ruleDefaults: rs.rules.map((r) => ({ id: r.id, action: r.action })),
    quantity: {
      pattern: QUANTITY_PATTERN,
      maxMilli: QUANTITY_MAX_BYTES * 1000,
      multipliers: Object.entries(QUANTITY_MULTIPLIERS).map(([suffix, factor]) => ({ suffix, factor })),
    },
    checks,
    functions: [...fns.functions, ...nums.functions].map((f) => ({ ...f, head: functionHead(f) })),
  };
}
