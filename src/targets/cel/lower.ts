// IR → CEL, shared by every engine that speaks Kubernetes CEL (Kyverno's `validate.cel` today).
// One IR rule (or the part of it with one action) becomes a set of CEL variables and a list of
// checks, each check a CEL list of fact strings (`<path>` or `<path>@<list>[<index>]`) that is
// empty when the check passes. The engine wrapper decides how rules, kinds and messages are laid
// out; everything that reads the resource is here.
//
// What keeps the output lean (Kyverno compiles every expression for every resource, so size is
// time, and the whole object must fit a 256 KiB annotation for client-side apply):
// - the pod template, its spec and every intermediate object a rule reads are computed once per
//   rule as variables, normalised to a map (`{}` when absent or of another type), so a read is
//   one optional selection (`variables.p0.?runAsUser.orValue(null)`) instead of a guard chain;
// - each container is one entry of `variables.ctrs`, with its path and its normalised
//   intermediates, built once per rule;
// - conditions that read only the pod are hoisted into variables and evaluated once, not per
//   container or per list item; pod-level numbers (ECI-POD-002's memory basis) likewise;
// - fact strings are built only for items that violate.
//
// Reads never raise: CEL's optional selection (`a.?b`) on a list raises an error (cel-go
// refQualify: a string index into a list), so only normalised maps are selected from. A value
// of the wrong type reads as null at the next step, as in the Rego target.

import type { Condition, ContainerList, NumberExpr, ParamValues, Path, Pattern, Ref, Subject, Transform } from '../../ir/types.ts';
import { assertNever, CONTAINER_LISTS } from '../../ir/types.ts';
import { jsonMemberPattern, jsonObjectArrayPattern } from '../../ir/json-object-array.ts';
import { applyTransform, INT_STRING_MAX_DIGITS, plainKey, QUANTITY_MAX_BYTES, QUANTITY_MULTIPLIERS, QUANTITY_PATTERN } from '../../ir/semantics.ts';

/**
 * A CEL string literal, single-quoted (it then needs no escaping inside the YAML and JSON
 * strings that carry it); CEL accepts JSON's escapes and `\'`. `{`, `}` and `$` are written as
 * \u escapes: Kyverno substitutes `{{ … }}` variables and `$( … )` references in a rule's text
 * before CEL sees it, so a literal holding them would be rewritten or make the rule fail to load.
 */
export const celString = (s: string): string =>
  `'${JSON.stringify(s)
    .slice(1, -1)
    .replace(/\\"|'|[{}$]/g, (c) => (c === '\\"' ? '"' : c === "'" ? "\\'" : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`))}'`;
export const celList = (xs: readonly string[]): string => `[${xs.map(celString).join(', ')}]`;

/** A static path suffix as the reports write it: `.key`, `["odd key"]`. */
export function pathSuffix(path: readonly string[]): string {
  return path.map((k) => (plainKey(k) ? `.${k}` : `[${JSON.stringify(k)}]`)).join('');
}

/** `m.?k` (optional selection), written as an index where the key is not an identifier. */
const opt = (m: string, k: string) => (plainKey(k) ? `${m}.?${k}` : `${m}[?${celString(k)}]`);
/** `m.k`, likewise. */
const sel = (m: string, k: string) => (plainKey(k) ? `${m}.${k}` : `${m}[${celString(k)}]`);
/** The value at `k` of the map `m`, or null. */
// The default is dyn: Kubernetes types each variable by its expression (and Gatekeeper, with the
// same library, each one), and `orValue(null)` on a dyn optional is typed null, so comparing it
// with a string or number would not compile.
const field = (m: string, k: string) => `${opt(m, k)}.orValue(dyn(null))`;
/** The value at `k` of the map `m` when it is a map, else `{}`. */
const mapField = (m: string, k: string) => `(type(${opt(m, k)}.orValue(0)) == map ? ${sel(m, k)} : {})`;

/** `base + lit`, with `lit` (a celString) merged into a literal that ends `base`. */
function concatLiteral(base: string, lit: string): string {
  return endsWithLiteral(base) ? `${base.slice(0, -1)}${lit.slice(1)}` : `${base} + ${lit}`;
}
/** Does `e` end with a whole string literal operand (`… + 'x'`, or only `'x'`)? */
function endsWithLiteral(e: string): boolean {
  let start = -1;
  for (let i = 0; i < e.length; i++) {
    if (e[i] !== "'") continue;
    start = i;
    for (i++; i < e.length && e[i] !== "'"; i++) if (e[i] === '\\') i++;
    if (i === e.length - 1) return start === 0 || e.slice(0, start).endsWith(' + ');
  }
  return false;
}

/** A runtime key segment (for keys of user objects): `.key` or `["key"]`, quotes escaped. */
const keySegment = (k: string): string => `(${k}.matches('^[A-Za-z_][A-Za-z0-9_]*$') ? '.' + ${k} : '[' + strings.quote(${k}) + ']')`;

/** Where the rule set's kinds keep their pod template. */
export interface TemplateShape {
  /** The pod controllers besides Pod (a CronJob's template is under spec.jobTemplate). */
  readonly controllers: readonly string[];
}

/**
 * The marker of an effective value that is set but unknown (a wrong-typed securityContext on the
 * way): a bytes value, which no JSON value is, so it is not null and passes no type or value test.
 */
const UNKNOWN = "b''";

export interface CelVariable {
  readonly name: string;
  readonly expression: string;
}

export interface CelParams {
  /** Values of stringList parameters. */
  readonly list: (name: string) => readonly string[];
  /** Namespaces of a namespaceApproval parameter (empty: approved nowhere). */
  readonly namespaces: (name: string) => readonly string[];
  /**
   * Set for targets that read the list parameters when they evaluate (a ValidatingAdmission-
   * Policy's paramKind): the CEL list of a parameter's values. The others compile them in.
   */
  readonly runtime?: (name: string) => string;
}

/** The rule set's parameter values, compiled into the CEL (the CEL targets have no data document). */
export function celParams(params: ParamValues): CelParams {
  const list = (name: string) => (Array.isArray(params[name]) ? (params[name] as string[]) : []);
  return { list, namespaces: list };
}

/**
 * What one rule reads, collected while its checks are lowered, then written out as variables in
 * dependency order. Names are short on purpose: they are repeated in every expression.
 */
export class RuleContext {
  private readonly podMaps = new Map<string, string>();
  private readonly ctrMaps = new Map<string, string>();
  /** Per effective path: the container entry's key and the pod-level fallback's variable. */
  private readonly effectives = new Map<string, { readonly entry: string; readonly pod: string }>();
  private readonly hoisted = new Map<string, { name: string; expression: string }>();
  private readonly hoistOrder: string[] = [];
  private needsCtrs = false;
  private needsMeta = false;
  private needsLists = false;
  private counter = 0;

  constructor(
    readonly shape: TemplateShape,
    readonly params: CelParams,
  ) {}

  fresh(): string {
    return `v${this.counter++}`;
  }

  /** The normalised map at a pod-spec path (`variables.pod` for the spec itself). */
  podMap(path: Path): string {
    if (!path.length) return 'variables.pod';
    const key = JSON.stringify(path);
    let name = this.podMaps.get(key);
    if (!name) {
      this.podMap(path.slice(0, -1));
      name = `p${this.podMaps.size}`;
      this.podMaps.set(key, name);
    }
    return `variables.${name}`;
  }

  /** The normalised map at a container path, as a key of the container entry `x`. */
  ctrMap(x: string, path: Path): string {
    this.needsCtrs = true;
    if (!path.length) return `${x}.c`;
    // Each entry is walked from the container itself, so a parent is an entry only when read.
    const key = JSON.stringify(path);
    let name = this.ctrMaps.get(key);
    if (!name) {
      name = `n${this.ctrMaps.size}`;
      this.ctrMaps.set(key, name);
    }
    return `${x}.${name}`;
  }

  /** The container's effective value at a securityContext path (UNKNOWN when it cannot be known). */
  effective(x: string, path: Path): string {
    this.needsCtrs = true;
    const key = JSON.stringify(path);
    let names = this.effectives.get(key);
    if (!names) {
      names = { entry: `e${this.effectives.size}`, pod: `q${this.effectives.size}` };
      this.effectives.set(key, names);
    }
    return `${x}.${names.entry}`;
  }

  containers(): string {
    this.needsCtrs = true;
    return 'variables.ctrs';
  }

  /** Container entries carry their list name (for checks narrowed to some lists). */
  containerLists(): void {
    this.needsLists = true;
  }

  annotations(): string {
    this.needsMeta = true;
    return 'variables.an';
  }

  /**
   * A pod-level expression computed once per rule, keyed by the IR node it lowers (its text
   * differs between lowerings in its fresh names). A short one is cheaper inline.
   */
  hoist(key: string, lower: () => string): string {
    let h = this.hoisted.get(key);
    if (!h) {
      const expression = lower();
      h = { name: expression.length > HOIST_MIN_LENGTH ? `h${this.hoistOrder.length}` : '', expression };
      this.hoisted.set(key, h);
      if (h.name) this.hoistOrder.push(key);
    }
    return h.name ? `variables.${h.name}` : h.expression;
  }

  /** The rule's variables, each after the ones it reads. */
  variables(): CelVariable[] {
    const vars: CelVariable[] = [];
    vars.push({ name: 't', expression: templateExpr(this.shape) });
    vars.push({ name: 'pod', expression: mapField('variables.t', 'spec') });
    vars.push({ name: 'b', expression: specPathExpr(this.shape) });
    if (this.needsMeta) {
      vars.push({ name: 'an', expression: `[${mapField('variables.t', 'metadata')}].map(m, ${mapField('m', 'annotations')})[0]` });
    }
    for (const [key, name] of this.podMaps) {
      const path = JSON.parse(key) as string[];
      vars.push({ name, expression: mapField(this.podMap(path.slice(0, -1)), path.at(-1)!) });
    }
    // Pod-level effective values: the fallback of each container's.
    for (const [key, { pod }] of this.effectives) vars.push({ name: pod, expression: effectiveValue('variables.pod', JSON.parse(key) as string[], 'null') });
    if (this.needsCtrs) vars.push({ name: 'ctrs', expression: this.containersExpr() });
    for (const e of this.hoistOrder) {
      const h = this.hoisted.get(e)!;
      vars.push({ name: h.name, expression: h.expression });
    }
    return vars;
  }

  private containersExpr(): string {
    // [key, expression, is it a string (else dyn)]
    const entry: [string, string, boolean][] = [
      ['c', 'c', false],
      ['p', `variables.b + '.' + l + '[' + string(i) + ']'`, true],
      ['a', `'@' + l + '[' + string(i) + ']'`, true],
      ...(this.needsLists ? [['l', 'l', true] as [string, string, boolean]] : []),
    ];
    // Each normalised intermediate from the container itself (a map literal cannot read its
    // siblings): the walk is written once per rule.
    for (const [key, name] of this.ctrMaps) entry.push([name, walkToMap('c', JSON.parse(key) as string[]), false]);
    for (const [key, { entry: name, pod }] of this.effectives) entry.push([name, effectiveValue('c', JSON.parse(key) as string[], `variables.${pod}`), false]);
    // Kubernetes' CEL rejects map literals whose values differ in type: the strings are made dyn
    // like the rest (values read from the object are dyn already).
    const literal = `{${entry.map(([k, e, str]) => `'${k}': ${str ? `dyn(${e})` : e}`).join(', ')}}`;
    return `${celList(CONTAINER_LISTS)}.map(l, [variables.pod[?l].orValue(dyn(0))].map(cs, type(cs) == list ? cs.transformList(i, c, type(c) == map, ${literal}) : [])[0]).flatten()`;
  }
}

/** The pod template, normalised to a map: the object itself for a Pod. */
export function templateExpr(shape: TemplateShape): string {
  const { controllers } = shape;
  const step = (k: string) => `.map(a, type(a) == map ? ${opt('a', k)}.orValue(0) : 0)`;
  // A CronJob's template is under spec.jobTemplate.spec, the others' under spec.
  const cron = controllers.includes('CronJob') ? `.map(a, object.kind == 'CronJob' ? [a]${step('jobTemplate')}${step('spec')}[0] : a)` : '';
  return controllers.length
    ? `object.kind == 'Pod' ? object : [object.?spec.orValue(0)]${cron}${step('template')}.map(a, type(a) == map ? a : {})[0]`
    : 'object';
}

/** The selector on the template's labels (`template`: a CEL expression of it), or null when it selects every pod. */
export function selectorExpr(selector: Readonly<Record<string, string>>, template: string): string | null {
  const keys = Object.keys(selector).sort();
  if (!keys.length) return null;
  const labels = `[${template}].map(t, type(t.?metadata.orValue(0)) == map ? t.metadata : {}).map(m, type(m.?labels.orValue(0)) == map ? m.labels : {})[0]`;
  // `k in l && l[k] == v`, not `l[?k].orValue(null) == v`: Gatekeeper's CEL environment types
  // `orValue(null)` on the normalised map as null and rejects the comparison with a string.
  return `[${labels}].all(l, ${keys.map((k) => `${celString(k)} in l && l[${celString(k)}] == ${celString(selector[k]!)}`).join(' && ')})`;
}

/** A pod spec that is not an object is the input rule's (as in Rego): no other check runs. */
export const SPEC_NOT_MAP = 'type(variables.t.?spec.orValue(0)) != map';

/**
 * The input rule's checks that apply to admitted objects (pod spec, container lists,
 * containers): each a message and a CEL list of the offending paths.
 */
export function inputChecks(): { readonly message: string; readonly expr: string }[] {
  const lists = celList(CONTAINER_LISTS);
  return [
    { message: 'pod spec must be an object', expr: `type(variables.t.?spec.orValue(null)) == map ? [] : [variables.b]` },
    {
      message: 'container list must be a list',
      expr: `${lists}.filter(l, [variables.pod[?l].orValue(null)].exists(v, v != null && type(v) != list)).map(l, variables.b + '.' + l)`,
    },
    {
      message: 'container must be an object',
      expr: `${lists}.map(l, [variables.pod[?l].orValue([])].map(cs, type(cs) == list ? cs.transformList(i, c, type(c) != map, variables.b + '.' + l + '[' + string(i) + ']') : [])[0]).flatten()`,
    },
  ];
}

/**
 * Kubernetes rejects a messageExpression result with a line break or over 5 KiB: texts go out
 * on one line, at most `max` characters, so the facts after them keep the room. Messages may
 * differ between engines; facts may not.
 */
export function oneLineMessage(message: string, max = 512): string {
  const oneLine = message.replace(/[\r\n]+/g, ' ');
  return oneLine.length > max ? `${oneLine.slice(0, max - 1)}…` : oneLine;
}

/** The path of the pod spec, as reports write it (`object.spec.template.spec` …), by kind. */
function specPathExpr(shape: TemplateShape): string {
  const { controllers } = shape;
  if (!controllers.length) return celString('object.spec');
  const templated = controllers.filter((k) => k !== 'CronJob');
  const cron = controllers.includes('CronJob') ? `object.kind == 'CronJob' ? '.jobTemplate.spec.template.spec' : ` : '';
  return `'object.spec' + (object.kind == 'Pod' ? '' : ${cron}${templated.length ? `'.template.spec'` : "''"})`;
}

/** `base` (a map) walked along `path`, each step normalised to a map. */
function walkToMap(base: string, path: Path): string {
  if (path.length === 1) return mapField(base, path[0]!);
  return `[${base}]${path.map((k) => `.map(a, ${mapField('a', k)})`).join('')}[0]`;
}

/**
 * The value at `path` under `base`'s securityContext, with a wrong-typed object on the way made
 * UNKNOWN; `absent` is what a missing field gives (null for the pod; for a container the pod's
 * effective value, its fallback). Written without comprehensions (selections and conditionals only): it is computed
 * for every container, and CEL's cost limit counts each list a comprehension builds.
 */
function effectiveValue(base: string, path: Path, absent: string): string {
  const walk = (m: string, keys: Path): string => {
    const [k, ...rest] = keys as [string, ...string[]];
    const next = sel(m, k);
    const unset = `${opt(m, k)}.orValue(null) == null`;
    if (!rest.length) return `(${unset} ? ${absent} : ${next})`;
    return `(${unset} ? ${absent} : type(${next}) != map ? ${UNKNOWN} : ${walk(next, rest)})`;
  };
  return walk(base, ['securityContext', ...path]);
}

// ---- conditions ---------------------------------------------------------------------------------

/** The lowering scope: the current item and container entry (CEL variable names) or null. */
export interface Scope {
  readonly item: string | null;
  readonly ctr: string | null;
  readonly rule: RuleContext;
}

/** Does the condition (or number) read only the pod, so it can be computed once per rule? */
function podLevelRef(r: Ref): boolean {
  return r.kind === 'podField' || r.kind === 'annotation';
}
function podLevelNumber(n: NumberExpr): boolean {
  switch (n.kind) {
    case 'intString':
      return podLevelRef(n.ref);
    case 'annotationQuantity':
    case 'containerQuantitySum':
      return true;
    case 'firstDefined':
      return n.options.every(podLevelNumber);
    default:
      return assertNever(n, 'number expression');
  }
}
export function podLevel(c: Condition): boolean {
  switch (c.kind) {
    case 'present':
    case 'absent':
    case 'hasType':
    case 'equals':
    case 'oneOf':
    case 'matchesAny':
    case 'intRange':
    case 'regex':
    case 'inParamList':
    case 'quantity':
    case 'jsonObjectArray':
      return podLevelRef(c.ref);
    case 'namespaceApproved':
      return true;
    case 'numberDefined':
      return podLevelNumber(c.expr);
    case 'atMost':
      return podLevelNumber(c.left) && podLevelNumber(c.right);
    case 'someItem':
      return podLevelRef(c.list);
    case 'not':
      return podLevel(c.condition);
    case 'all':
    case 'any':
      return c.conditions.every(podLevel);
    default:
      return assertNever(c, 'condition');
  }
}

/** The value at `path` under `v`, which may be of any type; null when any step is missing. */
function valueAt(v: string, path: Path): string {
  if (!path.length) return v;
  const steps = path.map((k) => `.map(a, type(a) == map ? ${field('a', k)} : null)`).join('');
  return path.length === 1 ? `(type(${v}) == map ? ${field(v, path[0]!)} : null)` : `[${v}]${steps}[0]`;
}

export function refExpr(ref: Ref, scope: Scope): string {
  switch (ref.kind) {
    case 'item':
      return need(scope.item, 'item');
    case 'itemField':
      return valueAt(need(scope.item, 'item'), ref.path);
    case 'podField':
      return field(scope.rule.podMap(ref.path.slice(0, -1)), ref.path.at(-1)!);
    case 'containerField': {
      const x = need(scope.ctr, 'container');
      return ref.path.length ? field(scope.rule.ctrMap(x, ref.path.slice(0, -1)), ref.path.at(-1)!) : `${x}.c`;
    }
    case 'effective':
      return scope.rule.effective(need(scope.ctr, 'container'), ref.path);
    case 'annotation':
      return field(scope.rule.annotations(), ref.name);
    default:
      return assertNever(ref, 'ref');
  }
}

function need(v: string | null, what: string): string {
  if (!v) throw new Error(`${what} reference outside its scope (the IR validator rejects this)`);
  return v;
}

/** `body(x)` with `e` bound to a fresh variable (inline when `e` is already a plain name). */
function bind(e: string, rule: RuleContext, body: (x: string) => string): string {
  if (/^[A-Za-z_][A-Za-z0-9_.]*$/.test(e)) return body(e);
  const x = rule.fresh();
  return `[${e}].exists(${x}, ${body(x)})`;
}

/** Like bind, for a non-boolean body. */
function bindValue(e: string, rule: RuleContext, body: (x: string) => string): string {
  if (/^[A-Za-z_][A-Za-z0-9_.]*$/.test(e)) return body(e);
  const x = rule.fresh();
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

/** Pod-level conditions longer than this are computed once per rule, as a variable. */
const HOIST_MIN_LENGTH = 48;

const INT64_MIN = '-9.223372036854775808e18';
const INT64_END = '9.223372036854775808e18';
const typeTest: Record<string, (v: string) => string> = {
  string: (v) => `type(${v}) == string`,
  boolean: (v) => `type(${v}) == bool`,
  number: (v) => `(type(${v}) == int || type(${v}) == uint || type(${v}) == double)`,
  // An int64 (src/ir/types.ts JsonType). A double is tested inside int64's range before int(),
  // which errors outside it; -2^63 itself is in range but int() refuses it (cel-go doubleToInt64Checked).
  integer: (v) =>
    `(type(${v}) == int || type(${v}) == uint && ${v} <= 9223372036854775807u || type(${v}) == double && (${v} == ${INT64_MIN} || ${v} > ${INT64_MIN} && ${v} < ${INT64_END} && double(int(${v})) == ${v}))`,
  array: (v) => `type(${v}) == list`,
  object: (v) => `type(${v}) == map`,
};

/**
 * The operators of `e` outside parentheses, brackets and string literals: `e` needs parentheses
 * as an operand of `&&` when it has `||` or `?` there, of `!` when it has any operator there.
 */
function topLevel(e: string): string {
  let depth = 0;
  let out = '';
  for (let i = 0; i < e.length; i++) {
    const ch = e[i]!;
    if (ch === "'" || ch === '"') {
      for (i++; i < e.length && e[i] !== ch; i++) if (e[i] === '\\') i++;
      continue;
    }
    if (ch === '(' || ch === '[' || ch === '{') depth++;
    else if (ch === ')' || ch === ']' || ch === '}') depth--;
    else if (depth === 0) out += ch;
  }
  return out;
}
// Conditionals are written ` ? `; `.?` and `[?` are optional selections.
const hasConditional = (e: string) => / \? /.test(topLevel(e));
const andOperand = (e: string) => (hasConditional(e) || topLevel(e).includes('||') ? `(${e})` : e);
const orOperand = (e: string) => (hasConditional(e) ? `(${e})` : e);
// Any top-level space is an operator (`(a) in b` is ` in ` at the top level: not trimmed away).
const notOperand = (e: string) => (/[ ]/.test(topLevel(e)) ? `(${e})` : e);

export function conditionExpr(c: Condition, scope: Scope): string {
  // A pod-level part of a per-item condition is computed once per rule.
  if ((scope.item || scope.ctr) && podLevel(c)) {
    return scope.rule.hoist(`c${JSON.stringify(c)}`, () => conditionExpr(c, { item: null, ctr: null, rule: scope.rule }));
  }
  const rule = scope.rule;
  const v = (ref: Ref) => refExpr(ref, scope);
  switch (c.kind) {
    case 'present':
      return `${v(c.ref)} != null`;
    case 'absent':
      return `${v(c.ref)} == null`;
    case 'hasType':
      return bind(v(c.ref), rule, (x) => typeTest[c.type]!(x));
    case 'equals': {
      const lit = typeof c.value === 'string' ? celString(c.value) : JSON.stringify(c.value);
      // Booleans and strings compare by value; CEL's == is false across types.
      return typeof c.value === 'number' ? bind(v(c.ref), rule, (x) => `${typeTest['number']!(x)} && ${x} == ${lit}`) : `${v(c.ref)} == ${lit}`;
    }
    case 'oneOf':
      return bind(v(c.ref), rule, (x) => `type(${x}) == string && ${transformExpr(c.transform, x)} in ${celList([...new Set(c.values)].sort())}`);
    case 'matchesAny':
      return bind(v(c.ref), rule, (x) =>
        `type(${x}) == string && ${bind(transformExpr(c.transform, x), rule, (s) => `(${c.patterns.map((p) => patternExpr(p, s)).join(' || ')})`)}`,
      );
    case 'intRange':
      return bind(v(c.ref), rule, (x) => `${typeTest['integer']!(x)} && ${x} >= ${c.min} && ${x} <= ${c.max}`);
    case 'regex':
      return bind(v(c.ref), rule, (x) => `type(${x}) == string && ${x}.matches(${celString(c.pattern)})`);
    case 'inParamList': {
      const { runtime } = rule.params;
      const values = runtime
        ? rule.hoist(`param ${c.param} ${c.transform ?? ''}`, () => `${runtime(c.param)}.map(p, ${transformExpr(c.transform, 'p')})`)
        : celList([...new Set(rule.params.list(c.param).map((p) => applyTransform(c.transform, p)))].sort());
      return bind(v(c.ref), rule, (x) => `type(${x}) == string && ${transformExpr(c.transform, x)} in ${values}`);
    }
    case 'namespaceApproved':
      // Gatekeeper's request (gator's, and its audit's) has no namespace key for an object
      // without one; the API server's always has one ('' for none).
      return `(has(request.namespace) ? request.namespace : '') in ${rule.params.runtime ? rule.params.runtime(c.param) : celList(rule.params.namespaces(c.param))}`;
    case 'numberDefined':
      return `${numberExpr(c.expr, scope)} != null`;
    case 'atMost':
      return bind(numberExpr(c.left, scope), rule, (l) =>
        bind(numberExpr(c.right, scope), rule, (r) => `${l} != null && ${r} != null && int(${l}) * ${c.leftScale} <= int(${r}) * ${c.rightScale}`),
      );
    case 'quantity':
      return `${quantityMilli(v(c.ref), rule)} != null`;
    case 'someItem': {
      const el = rule.fresh();
      const inner = conditionExpr(c.condition, { ...scope, item: el });
      return bind(v(c.list), rule, (list) => `type(${list}) == list && ${list}.exists(${el}, ${inner})`);
    }
    case 'jsonObjectArray':
      return bind(v(c.ref), rule, (x) => `type(${x}) == string && ${x}.matches(${celString(jsonObjectArrayPattern(c.stringFields))})`);
    case 'not': {
      const inner = conditionExpr(c.condition, scope);
      const typeIs = /^type\(([\w.]+)\) == (\w+)$/.exec(inner);
      return typeIs ? `type(${typeIs[1]}) != ${typeIs[2]}` : `!${notOperand(inner)}`;
    }
    case 'all':
      // Cheap tests first: pod-level parts (hoisted, computed once) before per-item ones.
      return c.conditions
        .map((x) => ({ x, pod: podLevel(x) }))
        .sort((a, b) => Number(b.pod) - Number(a.pod))
        .map(({ x }) => andOperand(conditionExpr(x, scope)))
        .join(' && ');
    case 'any':
      return c.conditions.map((x) => orOperand(conditionExpr(x, scope))).join(' || ');
    default:
      return assertNever(c, 'condition');
  }
}

/** A quantity string in thousandths (int), or null; the same grammar and bound as Rego. */
function quantityMilli(raw: string, rule: RuleContext): string {
  const mult = `{${Object.entries(QUANTITY_MULTIPLIERS)
    .map(([k, m]) => `${celString(k)}: ${m}`)
    .join(', ')}}`;
  return bindValue(raw, rule, (s) => {
    const num = `${s}.find('^[0-9]+(\\\\.[0-9]{1,3})?')`;
    const milli = bindValue(`${num}.split('.')`, rule, (p) =>
      bindValue(
        `(int(${p}[0]) * 1000 + int((${p}.size() > 1 ? ${p}[1] + '000' : '000').substring(0, 3))) * ${mult}[${s}.substring(size(${num}))]`,
        rule,
        (q) => `(${q} <= ${QUANTITY_MAX_BYTES * 1000} ? dyn(${q}) : null)`,
      ),
    );
    return `(type(${s}) == string && ${s}.matches(${celString(QUANTITY_PATTERN)}) ? ${milli} : null)`;
  });
}

export function numberExpr(n: NumberExpr, scope: Scope): string {
  const rule = scope.rule;
  // Pod-level numbers (the memory basis) are computed once per rule.
  if ((scope.item || scope.ctr) && podLevelNumber(n)) return rule.hoist(`n${JSON.stringify(n)}`, () => numberExpr(n, { item: null, ctr: null, rule }));
  switch (n.kind) {
    case 'intString': {
      const re = `^[0-9]{1,${INT_STRING_MAX_DIGITS}}$`;
      return bindValue(refExpr(n.ref, scope), rule, (x) => `(type(${x}) == string && ${x}.matches(${celString(re)}) ? dyn(int(${x}) * 1000) : null)`);
    }
    case 'annotationQuantity':
      return bindValue(refExpr({ kind: 'annotation', name: n.annotation }, scope), rule, (raw) =>
        `(type(${raw}) == string && ${raw}.matches(${celString(n.pattern)}) && ${raw}.split(${celString(n.separator)}).size() > ${n.part} ? ${quantityMilli(`${raw}.split(${celString(n.separator)})[${n.part}]`, rule)} : null)`,
      );
    case 'containerQuantitySum': {
      const list = field('variables.pod', n.list);
      const first = n.fields.reduceRight<string>((acc, f) => `(${valueAt('k', f)} != null ? ${valueAt('k', f)} : ${acc})`, 'null');
      const collect = `(type(${list}) == list ? ${list}.map(k, ${first}).filter(k, k != null) : [])`;
      // Kubernetes' CEL list library has sum(); an unparseable quantity makes the sum undefined.
      return bindValue(collect, rule, (rs) =>
        bindValue(`${rs}.map(k, ${quantityMilli('k', rule)})`, rule, (qs) => `(${rs}.size() > 0 && ${qs}.all(q, q != null) ? dyn(${qs}.map(q, int(q)).sum()) : null)`),
      );
    }
    case 'firstDefined':
      return n.options.reduceRight<string>((acc, o) => bindValue(numberExpr(o, scope), rule, (x) => `(${x} != null ? ${x} : ${acc})`), 'null');
    default:
      return assertNever(n, 'number expression');
  }
}

// ---- subjects: each check's facts ---------------------------------------------------------------

/** One check's facts: a CEL list of path strings, over the pod or over one container entry `x`. */
export interface CheckFacts {
  readonly scope: 'pod' | 'container';
  /** The list of paths. */
  readonly expr: string;
  /** For container checks narrowed to some lists: those lists. */
  readonly lists?: readonly ContainerList[];
}

/**
 * The facts of one check: a CEL list holding, for each violating item, the path of the reported
 * field (`at` inside the item). Container checks are written over the container entry `x`; the
 * caller iterates the containers once for all of a rule's checks and appends the container
 * (`@<list>[<index>]`) there.
 */
export function checkFacts(s: Subject, violation: Condition, at: Path, rule: RuleContext): CheckFacts {
  /** `base` followed by a static path (nothing to add for an empty one). */
  const plus = (base: string, p: Path) => (p.length ? concatLiteral(base, celString(pathSuffix(p))) : base);
  const fact = (path: string) => plus(path, at);
  const podPath = (p: Path) => plus('variables.b', p);
  const metaPath = (p: Path) => `variables.b.substring(0, size(variables.b) - 4) + ${celString(`metadata${pathSuffix(p)}`)}`;
  const cond = (item: string, ctr: string | null) => conditionExpr(violation, { item, ctr, rule });
  // One candidate value (a pod-level field or one container's).
  const one = (value: string, path: string, ctr: string | null) => {
    const v = rule.fresh();
    return `([${value}].exists(${v}, ${v} != null && ${andOperand(cond(v, ctr))}) ? [${fact(path)}] : [])`;
  };
  // Each element of a list value.
  const elements = (value: string, path: string, ctr: string | null) => {
    const [l, i, v] = [rule.fresh(), rule.fresh(), rule.fresh()];
    return `[${value}].map(${l}, type(${l}) == list ? ${l}.transformList(${i}, ${v}, ${cond(v, ctr)}, ${fact(`${concatLiteral(path, "'['")} + string(${i}) + ']'`)}) : [])[0]`;
  };
  // Each entry of a map value whose key is not in `except` and whose value is not null.
  const entries = (value: string, path: string, except: readonly string[], ctr: string | null, keyFilter?: (k: string) => string) => {
    const [m, k, v] = [rule.fresh(), rule.fresh(), rule.fresh()];
    const skip = except.length ? `!(${k} in ${celList(except)}) && ` : '';
    return `[${value}].map(${m}, type(${m}) == map ? ${m}.transformList(${k}, ${v}, ${keyFilter ? `${keyFilter(k)} && ` : ''}${skip}${v} != null && ${andOperand(cond(v, ctr))}, ${fact(`${path} + ${keySegment(k)}`)}) : [])[0]`;
  };
  const podValue = (p: Path) => refExpr({ kind: 'podField', path: p }, { item: null, ctr: null, rule });
  const ctrValue = (p: Path) => refExpr({ kind: 'containerField', path: p }, { item: null, ctr: 'x', rule });
  const pod = (expr: string): CheckFacts => ({ scope: 'pod', expr });
  const ctr = (expr: string, lists?: readonly ContainerList[]): CheckFacts => {
    rule.containers();
    if (lists) rule.containerLists();
    return { scope: 'container', expr, ...(lists ? { lists } : {}) };
  };

  switch (s.kind) {
    case 'pod':
      return pod(one('variables.pod', 'variables.b', null));
    case 'podField':
      return pod(one(podValue(s.path), podPath(s.path), null));
    case 'podListItems':
      return pod(elements(podValue(s.path), podPath(s.path), null));
    case 'podKeys':
      return pod(entries(podValue(s.path), podPath(s.path), s.except, null));
    case 'podListItemKeys': {
      const [l, i, el, k, v] = [rule.fresh(), rule.fresh(), rule.fresh(), rule.fresh(), rule.fresh()];
      const skip = s.except.length ? `!(${k} in ${celList(s.except)}) && ` : '';
      const path = `${concatLiteral(podPath(s.path), "'['")} + string(${i}) + ']' + ${keySegment(k)}`;
      return pod(
        `[${podValue(s.path)}].map(${l}, type(${l}) == list ? ${l}.transformList(${i}, ${el}, type(${el}) == map ? ${el}.transformList(${k}, ${v}, ${skip}${v} != null && ${andOperand(cond(v, null))}, ${fact(path)}) : []).flatten() : [])[0]`,
      );
    }
    case 'annotation':
      return pod(one(field(rule.annotations(), s.name), metaPath(['annotations', s.name]), null));
    case 'annotationPrefix':
      return pod(entries(rule.annotations(), metaPath(['annotations']), [], null, (k) => `${k}.startsWith(${celString(s.prefix)})`));
    case 'annotationJsonItems': {
      // The member's value is the quoted string after the first ':' (keys contain no ':').
      const [raw, m, q] = [rule.fresh(), rule.fresh(), rule.fresh()];
      return pod(
        `[${field(rule.annotations(), s.name)}].map(${raw}, type(${raw}) == string ? ${raw}.findAll(${celString(jsonMemberPattern(s.field))}).map(${m}, ${m}.substring(${m}.indexOf(':') + 1).trim()).map(${q}, ${q}.substring(1, size(${q}) - 1)).filter(${q}, ${cond(q, null)}).map(${q}, ${fact(metaPath(['annotations', s.name]))}) : [])[0]`,
      );
    }
    case 'containerField':
      return ctr(one(ctrValue(s.path), plus('x.p', s.path), 'x'), s.lists);
    case 'containerListItems':
      return ctr(elements(ctrValue(s.path), plus('x.p', s.path), 'x'));
    case 'containerKeys':
      return ctr(entries(ctrValue(s.path), plus('x.p', s.path), s.except, 'x'));
    case 'effectiveField': {
      // The item is the effective value (UNKNOWN yields none); its path is where it was set.
      const sc = ['securityContext', ...s.path];
      const v = rule.fresh();
      const path = `(${ctrValue(sc)} != null ? ${plus('x.p', sc)} : ${podPath(sc)})`;
      return ctr(`([${rule.effective('x', s.path)}].exists(${v}, ${v} != null && type(${v}) != bytes && ${andOperand(cond(v, 'x'))}) ? [${fact(path)}] : [])`);
    }
    default:
      return assertNever(s, 'subject');
  }
}

/**
 * All of a rule's facts as one CEL list: the pod checks', then one pass over the containers for
 * all container checks, each container's facts tagged `@<list>[<index>]` when `perContainer`.
 */
export function ruleFacts(checks: readonly CheckFacts[], perContainer: boolean): string {
  const group = (xs: readonly string[]) => (xs.length === 1 ? xs[0]! : xs.map((x) => (hasConditional(x) ? `(${x})` : x)).join(' + '));
  const podParts = checks.filter((c) => c.scope === 'pod').map((c) => c.expr);
  const ctrParts = checks
    .filter((c) => c.scope === 'container')
    .map((c) => (c.lists ? `(x.l in ${celList(c.lists)} ? ${c.expr} : [])` : c.expr));
  const parts = [...podParts];
  if (ctrParts.length) {
    const body = group(ctrParts);
    parts.push(`variables.ctrs.map(x, ${perContainer ? `(${body}).map(p, p + x.a)` : body}).flatten()`);
  }
  return group(parts);
}

// ---- matching -----------------------------------------------------------------------------------

/** Where each kind the rule sets match is served: admission's resource rules name resources, not kinds. */
export const KIND_RESOURCES: Readonly<Record<string, { readonly group: string; readonly resource: string }>> = {
  Pod: { group: '', resource: 'pods' },
  ReplicationController: { group: '', resource: 'replicationcontrollers' },
  Deployment: { group: 'apps', resource: 'deployments' },
  ReplicaSet: { group: 'apps', resource: 'replicasets' },
  StatefulSet: { group: 'apps', resource: 'statefulsets' },
  DaemonSet: { group: 'apps', resource: 'daemonsets' },
  Job: { group: 'batch', resource: 'jobs' },
  CronJob: { group: 'batch', resource: 'cronjobs' },
};

export interface ResourceRule {
  readonly apiGroup: string;
  readonly resources: readonly string[];
}

/** Admission resource rules (v1, CREATE and UPDATE) for the kinds, one per API group, in a fixed order. */
export function resourceRules(kinds: readonly string[]): ResourceRule[] {
  const byGroup = new Map<string, string[]>();
  for (const kind of kinds) {
    const r = KIND_RESOURCES[kind];
    if (!r) throw new Error(`no resource is known for kind ${kind}`);
    byGroup.set(r.group, [...(byGroup.get(r.group) ?? []), r.resource]);
  }
  return [...byGroup].map(([apiGroup, resources]) => ({ apiGroup, resources }));
}
