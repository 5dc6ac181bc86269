// IR → CEL expressions for Kyverno's `validate.cel` (the Kubernetes CEL environment Kyverno
// compiles with: strings, lists, regex, optional types, two-variable comprehensions; no JSON
// parsing, no fold, no let: `[e].map(x, body)[0]` binds e to x).
//
// Reads are guarded so that a wrong type never raises a CEL error: every reference is
// `guard ? value : dyn(null)`, null standing for absent, as in the Rego target.
//
// Paths are reported from the resource root (`object.spec.template.spec.containers[0]…`).

import type { Condition, NumberExpr, Pattern, Ref, Subject, Transform } from '../../ir/types.ts';
import { assertNever } from '../../ir/types.ts';
import { jsonMemberPattern, jsonObjectArrayPattern } from '../../ir/json-object-array.ts';
import { plainKey, QUANTITY_MAX_BYTES, QUANTITY_PATTERN, QUANTITY_MULTIPLIERS, INT_STRING_MAX_DIGITS, applyTransform } from '../../ir/semantics.ts';

/**
 * A CEL string literal (CEL accepts JSON's escapes in double-quoted strings). `{`, `}` and `$`
 * are written as \u escapes: Kyverno substitutes `{{ … }}` variables and `$( … )` references
 * in a rule's text before CEL sees it, so a literal holding them would be rewritten or make
 * the rule fail to load.
 */
export const celString = (s: string): string =>
  JSON.stringify(s).replace(/[{}$]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
const celList = (xs: readonly string[]): string => `[${xs.map(celString).join(', ')}]`;

/** Where a kind keeps its pod spec and pod metadata, as CEL paths under `object`. */
export interface KindShape {
  /** e.g. `object.spec.template.spec` */
  readonly spec: string;
  /** e.g. `object.spec.template.metadata` */
  readonly meta: string;
}

export interface CelScope {
  /** The variable holding the current item, or undefined at the top. */
  readonly item: string;
  /** The variable holding the current container context ({c, list, index, path}), or null. */
  readonly ctr: string | null;
  /** Fresh variable names. */
  readonly fresh: () => string;
  readonly shape: KindShape;
}

/** Guarded read of `path` under `base`: the value, or dyn(null) when any step is missing. */
export function safeGet(base: string, path: readonly string[]): string {
  if (!path.length) return base;
  const guards: string[] = [];
  let cur = base;
  for (const key of path) {
    guards.push(`type(${cur}) == map`, `${celString(key)} in ${cur}`);
    cur = `${cur}[${celString(key)}]`;
  }
  return `(${guards.join(' && ')} ? dyn(${cur}) : dyn(null))`;
}

/** A static path suffix as the reports write it: `.key`, `["odd key"]`. */
export function pathSuffix(path: readonly string[]): string {
  return path.map((k) => (plainKey(k) ? `.${k}` : `[${JSON.stringify(k)}]`)).join('');
}

/** A runtime key segment (for keys of user objects). Quotes and backslashes are escaped. */
const keySegment = (k: string): string =>
  `(${k}.matches('^[A-Za-z_][A-Za-z0-9_]*$') ? '.' + ${k} : '["' + ${k}.replace('\\\\', '\\\\\\\\').replace('"', '\\\\"') + '"]')`;

export function refExpr(ref: Ref, scope: CelScope): string {
  switch (ref.kind) {
    case 'item':
      return scope.item;
    case 'itemField':
      return safeGet(scope.item, ref.path);
    case 'podField':
      return safeGet('variables.pod', ref.path);
    case 'containerField':
      return safeGet(`${need(scope.ctr)}.c`, ref.path);
    case 'effective': {
      const c = safeGet(`${need(scope.ctr)}.c`, ['securityContext', ...ref.path]);
      const p = safeGet('variables.pod', ['securityContext', ...ref.path]);
      return `(${c} != null ? ${c} : ${p})`;
    }
    case 'annotation':
      return safeGet('variables.meta', ['annotations', ref.name]);
    default:
      return assertNever(ref, 'ref');
  }
}

function need(ctr: string | null): string {
  if (!ctr) throw new Error('container reference outside a container check (the IR validator rejects this)');
  return ctr;
}

/** `[e].map(x, body(x))[0]`: evaluates e once. */
function bind(e: string, scope: CelScope, body: (x: string) => string): string {
  const x = scope.fresh();
  return `[${e}].map(${x}, ${body(x)})[0]`;
}

function transformExpr(t: Transform | undefined, s: string): string {
  switch (t) {
    case undefined:
      return s;
    case 'upper':
      return `${s}.upperAscii()`;
    case 'sysctlName':
      // The sysctl the runtime will write (see Transform in src/ir/types.ts).
      return `${s}.replace('/', '.')`;
    default:
      return assertNever(t, 'transform');
  }
}

function patternExpr(p: Pattern, s: string): string {
  switch (p.kind) {
    case 'exact':
      return `${s} == ${celString(p.value)}`;
    case 'prefix':
      return `${s}.startsWith(${celString(p.value)})`;
    default:
      return assertNever(p, 'pattern');
  }
}

const typeTest: Record<string, (v: string) => string> = {
  string: (v) => `type(${v}) == string`,
  boolean: (v) => `type(${v}) == bool`,
  number: (v) => `(type(${v}) == int || type(${v}) == uint || type(${v}) == double)`,
  // An int64 (src/ir/types.ts JsonType). A double is tested inside int64's range before int(),
  // which errors outside it; -2^63 itself is in range but int() refuses it (cel-go doubleToInt64Checked).
  integer: (v) =>
    `(type(${v}) == int || (type(${v}) == uint && ${v} <= 9223372036854775807u) || (type(${v}) == double && (${v} == -9.223372036854775808e18 || (${v} > -9.223372036854775808e18 && ${v} < 9.223372036854775808e18 && double(int(${v})) == ${v}))))`,
  array: (v) => `type(${v}) == list`,
  object: (v) => `type(${v}) == map`,
};

export interface CelParams {
  /** Values of stringList parameters, already transformed where a condition needs it. */
  readonly list: (name: string) => readonly string[];
  /** Namespaces of a namespaceApproval parameter (empty: approved nowhere). */
  readonly namespaces: (name: string) => readonly string[];
}

export function conditionExpr(c: Condition, scope: CelScope, params: CelParams): string {
  const v = (ref: Ref) => refExpr(ref, scope);
  switch (c.kind) {
    case 'present':
      return `(${v(c.ref)} != null)`;
    case 'absent':
      return `(${v(c.ref)} == null)`;
    case 'hasType':
      return bind(v(c.ref), scope, (x) => typeTest[c.type]!(x));
    case 'equals': {
      const t = typeof c.value === 'number' ? 'number' : typeof c.value === 'boolean' ? 'boolean' : 'string';
      return bind(v(c.ref), scope, (x) => `(${typeTest[t]!(x)} && ${x} == ${JSON.stringify(c.value)})`);
    }
    case 'oneOf':
      return bind(v(c.ref), scope, (x) => `(type(${x}) == string && ${transformExpr(c.transform, x)} in ${celList([...new Set(c.values)].sort())})`);
    case 'matchesAny':
      return bind(v(c.ref), scope, (x) =>
        `(type(${x}) == string && ${bind(transformExpr(c.transform, x), scope, (s) => `(${c.patterns.map((p) => patternExpr(p, s)).join(' || ')})`)})`,
      );
    case 'intRange':
      return bind(v(c.ref), scope, (x) => `(${typeTest['integer']!(x)} && ${x} >= ${c.min} && ${x} <= ${c.max})`);
    case 'regex':
      return bind(v(c.ref), scope, (x) => `(type(${x}) == string && ${x}.matches(${celString(c.pattern)}))`);
    case 'inParamList': {
      const values = [...new Set(params.list(c.param).map((p) => applyTransform(c.transform, p)))].sort();
      return bind(v(c.ref), scope, (x) => `(type(${x}) == string && ${transformExpr(c.transform, x)} in ${celList(values)})`);
    }
    case 'namespaceApproved':
      return `(request.namespace in ${celList(params.namespaces(c.param))})`;
    case 'numberDefined':
      return `(${numberExpr(c.expr, scope)} != null)`;
    case 'atMost':
      return bind(numberExpr(c.left, scope), scope, (l) =>
        bind(numberExpr(c.right, scope), scope, (r) => `(${l} != null && ${r} != null && int(${l}) * ${c.leftScale} <= int(${r}) * ${c.rightScale})`),
      );
    case 'quantity':
      return `(${quantityMilli(v(c.ref), scope)} != null)`;
    case 'someItem': {
      const el = scope.fresh();
      const inner = conditionExpr(c.condition, { ...scope, item: el }, params);
      return bind(v(c.list), scope, (list) => `(type(${list}) == list && ${list}.exists(${el}, ${inner}))`);
    }
    case 'jsonObjectArray':
      return bind(v(c.ref), scope, (x) => `(type(${x}) == string && ${x}.matches(${celString(jsonObjectArrayPattern(c.stringFields))}))`);
    case 'not':
      return `!${conditionExpr(c.condition, scope, params)}`;
    case 'all':
      return `(${c.conditions.map((x) => conditionExpr(x, scope, params)).join(' && ')})`;
    case 'any':
      return `(${c.conditions.map((x) => conditionExpr(x, scope, params)).join(' || ')})`;
    default:
      return assertNever(c, 'condition');
  }
}

/** A quantity string in thousandths (int), or dyn(null); the same grammar and bound as Rego. */
export function quantityMilli(raw: string, scope: CelScope): string {
  const mult = `{${Object.entries(QUANTITY_MULTIPLIERS)
    .map(([k, m]) => `${celString(k)}: ${m}`)
    .join(', ')}}`;
  return bind(raw, scope, (s) => {
    const num = `${s}.find('^[0-9]+(\\\\.[0-9]{1,3})?')`;
    const parts = `${num}.split('.')`;
    const milli = bind(parts, scope, (p) =>
      bind(
        `(int(${p}[0]) * 1000 + int((${p}.size() > 1 ? ${p}[1] + '000' : '000').substring(0, 3))) * ${mult}[${s}.substring(size(${num}))]`,
        scope,
        (q) => `(${q} <= ${QUANTITY_MAX_BYTES * 1000} ? dyn(${q}) : dyn(null))`,
      ),
    );
    return `(type(${s}) == string && ${s}.matches(${celString(QUANTITY_PATTERN)}) ? ${milli} : dyn(null))`;
  });
}

export function numberExpr(n: NumberExpr, scope: CelScope): string {
  switch (n.kind) {
    case 'intString': {
      const re = `^[0-9]{1,${INT_STRING_MAX_DIGITS}}$`;
      return bind(refExpr(n.ref, scope), scope, (x) => `(type(${x}) == string && ${x}.matches(${celString(re)}) ? dyn(int(${x}) * 1000) : dyn(null))`);
    }
    case 'annotationQuantity':
      return bind(refExpr({ kind: 'annotation', name: n.annotation }, scope), scope, (raw) =>
        `(type(${raw}) == string && ${raw}.matches(${celString(n.pattern)}) && ${raw}.split(${celString(n.separator)}).size() > ${n.part} ? ${quantityMilli(`${raw}.split(${celString(n.separator)})[${n.part}]`, scope)} : dyn(null))`,
      );
    case 'containerQuantitySum': {
      const list = safeGet('variables.pod', [n.list]);
      const ctr = scope.fresh();
      const raw = scope.fresh();
      const first = n.fields.reduceRight<string>((acc, f) => {
        const g = safeGet(ctr, f);
        return `(${g} != null ? ${g} : ${acc})`;
      }, 'dyn(null)');
      const collect = `(type(${list}) == list ? ${list}.map(${ctr}, ${first}).filter(${ctr}, ${ctr} != null) : [])`;
      // Kubernetes' CEL list library has sum(); an unparseable quantity makes the sum undefined.
      return bind(collect, scope, (rs) =>
        bind(`${rs}.map(${raw}, ${quantityMilli(raw, scope)})`, scope, (qs) =>
          `(${rs}.size() > 0 && ${qs}.all(q, q != null) ? dyn(${qs}.map(q, int(q)).sum()) : dyn(null))`,
        ),
      );
    }
    case 'firstDefined':
      return n.options.reduceRight<string>(
        (acc, o) => bind(numberExpr(o, scope), scope, (x) => `(${x} != null ? ${x} : ${acc})`),
        'dyn(null)',
      );
    default:
      return assertNever(n, 'number expression');
  }
}

/**
 * The subject as a CEL list of entries {v: value, p: path, x: container context or null}.
 * `variables.containers` holds every container with its list, index and path.
 */
export function subjectEntries(s: Subject, scope: CelScope): string {
  const entry = (value: string, path: string, ctr: string) => `{'v': dyn(${value}), 'p': dyn(${path}), 'x': dyn(${ctr})}`;
  const podPath = (p: readonly string[]) => celString(`${scope.shape.spec}${pathSuffix(p)}`);
  const perContainer = (body: (x: string) => string, lists?: readonly string[]) => {
    const x = scope.fresh();
    const filtered = lists ? `variables.containers.filter(${x}, ${x}.list in ${celList(lists)})` : 'variables.containers';
    return `${filtered}.map(${x}, ${body(x)}).flatten()`;
  };
  switch (s.kind) {
    case 'pod':
      return `[${entry('variables.pod', celString(scope.shape.spec), 'null')}]`;
    case 'podField':
      return bind(safeGet('variables.pod', s.path), scope, (v) => `(${v} != null ? [${entry(v, podPath(s.path), 'null')}] : [])`);
    case 'podListItems': {
      const [i, el] = [scope.fresh(), scope.fresh()];
      return bind(safeGet('variables.pod', s.path), scope, (v) =>
        `(type(${v}) == list ? ${v}.transformList(${i}, ${el}, ${entry(el, `${podPath(s.path)} + '[' + string(${i}) + ']'`, 'null')}) : [])`,
      );
    }
    case 'podKeys': {
      const k = scope.fresh();
      return bind(safeGet('variables.pod', s.path), scope, (v) =>
        `(type(${v}) == map ? ${v}.filter(${k}, !(${k} in ${celList(s.except)}) && ${v}[${k}] != null).map(${k}, ${entry(`${v}[${k}]`, `${podPath(s.path)} + ${keySegment(k)}`, 'null')}) : [])`,
      );
    }
    case 'podListItemKeys': {
      const [i, el, k] = [scope.fresh(), scope.fresh(), scope.fresh()];
      return bind(safeGet('variables.pod', s.path), scope, (v) =>
        `(type(${v}) == list ? ${v}.transformList(${i}, ${el}, type(${el}) == map ? ${el}.filter(${k}, !(${k} in ${celList(s.except)}) && ${el}[${k}] != null).map(${k}, ${entry(`${el}[${k}]`, `${podPath(s.path)} + '[' + string(${i}) + ']' + ${keySegment(k)}`, 'null')}) : []).flatten() : [])`,
      );
    }
    case 'annotationPrefix': {
      const k = scope.fresh();
      const path = celString(`${scope.shape.meta}.annotations`);
      return bind(safeGet('variables.meta', ['annotations']), scope, (v) =>
        `(type(${v}) == map ? ${v}.filter(${k}, ${k}.startsWith(${celString(s.prefix)}) && ${v}[${k}] != null).map(${k}, ${entry(`${v}[${k}]`, `${path} + ${keySegment(k)}`, 'null')}) : [])`,
      );
    }
    case 'annotation':
      return bind(safeGet('variables.meta', ['annotations', s.name]), scope, (v) =>
        `(${v} != null ? [${entry(v, celString(`${scope.shape.meta}${pathSuffix(['annotations', s.name])}`), 'null')}] : [])`,
      );
    case 'annotationJsonItems': {
      const m = scope.fresh();
      const path = celString(`${scope.shape.meta}${pathSuffix(['annotations', s.name])}`);
      // The member's value is the quoted string after the first ':' (keys contain no ':').
      return bind(safeGet('variables.meta', ['annotations', s.name]), scope, (v) =>
        `(type(${v}) == string ? ${v}.findAll(${celString(jsonMemberPattern(s.field))}).map(${m}, ${bind(`${m}.substring(${m}.indexOf(':') + 1).trim()`, scope, (q) => entry(`${q}.substring(1, size(${q}) - 1)`, path, 'null'))}) : [])`,
      );
    }
    case 'containerField':
      return perContainer(
        (x) => bind(safeGet(`${x}.c`, s.path), scope, (v) => `(${v} != null ? [${entry(v, `${x}.path + ${celString(pathSuffix(s.path))}`, x)}] : [])`),
        s.lists,
      );
    case 'containerListItems': {
      const [i, el] = [scope.fresh(), scope.fresh()];
      return perContainer((x) =>
        bind(safeGet(`${x}.c`, s.path), scope, (v) =>
          `(type(${v}) == list ? ${v}.transformList(${i}, ${el}, ${entry(el, `${x}.path + ${celString(pathSuffix(s.path))} + '[' + string(${i}) + ']'`, x)}) : [])`,
        ),
      );
    }
    case 'containerKeys': {
      const k = scope.fresh();
      return perContainer((x) =>
        bind(safeGet(`${x}.c`, s.path), scope, (v) =>
          `(type(${v}) == map ? ${v}.filter(${k}, !(${k} in ${celList(s.except)}) && ${v}[${k}] != null).map(${k}, ${entry(`${v}[${k}]`, `${x}.path + ${celString(pathSuffix(s.path))} + ${keySegment(k)}`, x)}) : [])`,
        ),
      );
    }
    case 'effectiveField': {
      const sc = ['securityContext', ...s.path];
      return perContainer((x) => {
        const c = safeGet(`${x}.c`, sc);
        const p = safeGet('variables.pod', sc);
        return bind(c, scope, (cv) =>
          bind(p, scope, (pv) =>
            `(${cv} != null ? [${entry(cv, `${x}.path + ${celString(pathSuffix(sc))}`, x)}] : (${pv} != null ? [${entry(pv, podPath(sc), x)}] : []))`,
          ),
        );
      });
    }
    default:
      return assertNever(s, 'subject');
  }
}

/** Every container of every list, with its list, index and path; non-objects are left out. */
export function containersExpr(shape: KindShape): string {
  const lists = ['containers', 'initContainers', 'ephemeralContainers'];
  return `${celList(lists)}.map(l, type(variables.pod) == map && l in variables.pod && type(variables.pod[l]) == list ? variables.pod[l].transformList(i, c, {'c': dyn(c), 'list': dyn(l), 'index': dyn(i), 'path': dyn(${celString(`${shape.spec}.`)} + l + '[' + string(i) + ']')}) : []).flatten().filter(x, type(x.c) == map)`;
}

/** Does the expression read `variables.containers`? (Rules that do not skip computing it.) */
export const usesContainers = (expr: string): boolean => expr.includes('variables.containers');
