// The target-independent model. Targets see only these types. Every union is closed: a new
// node kind is a compile error in each target's exhaustive switch until it is handled.

export type Action = 'deny' | 'warn';
export type ActionSetting = Action | 'off';
/**
 * `integer` is a Kubernetes int64 field's value: a whole number in -2^63..2^63-1 (a float such as
 * 1000.0 included, since YAML-to-JSON conversion writes it as 1000). The API server cannot decode
 * a larger number into the field, so it is malformed, not a large ID.
 */
export type JsonType = 'string' | 'boolean' | 'integer' | 'number' | 'array' | 'object';
export type Scalar = string | number | boolean;
export type Path = readonly string[];

/** Where a check's values are read from. `pod` is the pod spec (a template's spec for controllers). */
export type Ref =
  /** The value the check iterates over. */
  | { readonly kind: 'item' }
  /** A field inside the current item (the item is an object). */
  | { readonly kind: 'itemField'; readonly path: Path }
  | { readonly kind: 'podField'; readonly path: Path }
  | { readonly kind: 'containerField'; readonly path: Path }
  /**
   * The container's value when set (present and not null, `false`/`0` included), else the pod's:
   * kubelet's DetermineEffectiveSecurityContext. `path` is relative to both security contexts.
   * The container's securityContext is walked along `path`: a step that is absent or null means
   * the container does not set the field, and the pod's securityContext is walked the same way
   * (absent or null there: absent). A step before the field (securityContext itself or an object
   * on the way) that is present, non-null and not an object, in the container or, when the pod's
   * value would be used, in the pod, makes the field UNKNOWN: it has no effective value. Unknown
   * counts as set (`absent` is false), satisfies no value or type test, and an `effectiveField`
   * subject yields no item for it; only the owner of the malformed step reports it
   * (ECI-RULES.md, "Malformed input fails closed").
   */
  | { readonly kind: 'effective'; readonly path: Path }
  | { readonly kind: 'annotation'; readonly name: string };

/** A string transformation applied before comparing. */
export type Transform =
  /** Upper-case, as container runtimes do with capability names. */
  | 'upper'
  /**
   * The sysctl the runtime will write, in dotted form. kubelet's NormalizeName swaps `/` and `.`
   * when the first separator is `/`; the runtime then maps every `.` to `/` under /proc/sys
   * (runc and the kata agent: writeSystemProperty, strings.Replace(key, ".", "/", -1)). So `.`
   * and `/` are one separator, and `net.ipv4/tcp_syncookies` is net.ipv4.tcp_syncookies.
   */
  | 'sysctlName';

export type Pattern =
  | { readonly kind: 'exact'; readonly value: string }
  | { readonly kind: 'prefix'; readonly value: string };

/** A number computed from the resource, or undefined when it cannot be computed. */
export type NumberExpr =
  /** A string holding a non-negative decimal integer, e.g. a sysctl value. */
  | { readonly kind: 'intString'; readonly ref: Ref }
  /**
   * A memory quantity read from an annotation that matches `pattern` as a whole: the `part`-th
   * piece (from 0) when the value is split on `separator`, e.g. `2-4Gi` → `4Gi`.
   */
  | {
      readonly kind: 'annotationQuantity';
      readonly annotation: string;
      readonly pattern: string;
      readonly separator: string;
      readonly part: number;
    }
  /**
   * The sum over the pod's `list` of each container's first present quantity field among
   * `fields`; undefined when no container has any of them or one of them is not a quantity.
   */
  | { readonly kind: 'containerQuantitySum'; readonly list: ContainerList; readonly fields: readonly Path[] }
  /** The first defined of its alternatives. */
  | { readonly kind: 'firstDefined'; readonly options: readonly NumberExpr[] };

export type QuantityUnit = '' | 'k' | 'M' | 'G' | 'T' | 'Ki' | 'Mi' | 'Gi' | 'Ti';
export const QUANTITY_UNITS: readonly QuantityUnit[] = ['', 'k', 'M', 'G', 'T', 'Ki', 'Mi', 'Gi', 'Ti'];

export type Condition =
  | { readonly kind: 'present'; readonly ref: Ref }
  | { readonly kind: 'absent'; readonly ref: Ref }
  /** Present and of this JSON type (`integer`: a number without a fraction). */
  | { readonly kind: 'hasType'; readonly ref: Ref; readonly type: JsonType }
  | { readonly kind: 'equals'; readonly ref: Ref; readonly value: Scalar }
  | { readonly kind: 'oneOf'; readonly ref: Ref; readonly values: readonly string[]; readonly transform?: Transform }
  | { readonly kind: 'matchesAny'; readonly ref: Ref; readonly patterns: readonly Pattern[]; readonly transform?: Transform }
  | { readonly kind: 'intRange'; readonly ref: Ref; readonly min: number; readonly max: number }
  /** A string matching a (RE2) regular expression. */
  | { readonly kind: 'regex'; readonly ref: Ref; readonly pattern: string }
  /** A string in a list parameter. */
  | { readonly kind: 'inParamList'; readonly ref: Ref; readonly param: string; readonly transform?: Transform }
  /** The resource's namespace is approved by a `false | [namespaces]` parameter. */
  | { readonly kind: 'namespaceApproved'; readonly param: string }
  | { readonly kind: 'numberDefined'; readonly expr: NumberExpr }
  /** left × leftScale ≤ right × rightScale; false when either side is undefined. */
  | {
      readonly kind: 'atMost';
      readonly left: NumberExpr;
      readonly leftScale: number;
      readonly right: NumberExpr;
      readonly rightScale: number;
    }
  /** A Kubernetes memory quantity this compiler can compare exactly (see QUANTITY_UNITS). */
  | { readonly kind: 'quantity'; readonly ref: Ref }
  /** Some element of the list at `list` satisfies `condition` (evaluated with the element as item). */
  | { readonly kind: 'someItem'; readonly list: Ref; readonly condition: Condition }
  /**
   * A string holding a JSON array of objects that have exactly these keys (in any order), each
   * with a string value without backslash escapes. Deliberately a regular language: every
   * engine, CEL included, checks it with the same regular expression.
   */
  | { readonly kind: 'jsonObjectArray'; readonly ref: Ref; readonly stringFields: readonly string[] }
  | { readonly kind: 'not'; readonly condition: Condition }
  | { readonly kind: 'all'; readonly conditions: readonly Condition[] }
  | { readonly kind: 'any'; readonly conditions: readonly Condition[] };

export type ContainerList = 'containers' | 'initContainers' | 'ephemeralContainers';
export const CONTAINER_LISTS: readonly ContainerList[] = ['containers', 'initContainers', 'ephemeralContainers'];

/** What a check iterates over; each item has a value and the path it was read from. */
export type Subject =
  | { readonly kind: 'pod' }
  | { readonly kind: 'podField'; readonly path: Path }
  | { readonly kind: 'podListItems'; readonly path: Path }
  /** Keys of a pod-level object, except `except`, whose value is not null. */
  | { readonly kind: 'podKeys'; readonly path: Path; readonly except: readonly string[] }
  /**
   * Keys of each object element of a pod-level list, except `except`, whose value is not null
   * (e.g. the source of each volume: `spec.volumes[2].hostPath`).
   */
  | { readonly kind: 'podListItemKeys'; readonly path: Path; readonly except: readonly string[] }
  | { readonly kind: 'annotation'; readonly name: string }
  /** Every annotation whose name starts with `prefix` (the value; the path names the annotation). */
  | { readonly kind: 'annotationPrefix'; readonly prefix: string }
  /** One item per element of a JSON array held in an annotation (its `name` field). */
  | { readonly kind: 'annotationJsonItems'; readonly name: string; readonly field: string }
  /** A field of each container, of every list unless `lists` narrows them. */
  | { readonly kind: 'containerField'; readonly path: Path; readonly lists?: readonly ContainerList[] }
  | { readonly kind: 'containerListItems'; readonly path: Path }
  | { readonly kind: 'containerKeys'; readonly path: Path; readonly except: readonly string[] }
  /** The effective field of each container (see Ref `effective`); the path is where it was set. */
  | { readonly kind: 'effectiveField'; readonly path: Path };

/**
 * `rule`: the rule's action (overridable by parameters); `deny`/`warn`: fixed. Malformed input
 * is always `deny` (the catalogue's fail-closed clause), whatever the rule's action.
 */
export type CheckAction = 'rule' | Action;

export interface Check {
  /** Unique within its rule; used to name target artefacts. */
  readonly id: string;
  readonly action: CheckAction;
  readonly subject: Subject;
  /** The item violates the rule when this holds. */
  readonly violation: Condition;
  /** Report the field at this path inside the item instead of the item itself. */
  readonly at?: Path;
  readonly message: string;
}

export interface Rule {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly action: Action;
  readonly level: 'pod' | 'container';
  readonly fix: string;
  /** Why the rule exists, citing its source (catalogue section, seed document). */
  readonly rationale?: string;
  readonly checks: readonly Check[];
}

export type ParamType =
  | { readonly kind: 'stringList' }
  | { readonly kind: 'namespaceApproval' }
  | { readonly kind: 'labelSelector' };

export interface Param {
  readonly name: string;
  readonly description: string;
  readonly type: ParamType;
}

export interface RuleSet {
  /** File-system and package name, e.g. `eci`. */
  readonly name: string;
  readonly title: string;
  readonly version: string;
  /** The rule reporting resources that cannot be read, and unknown kinds. */
  readonly inputRule: { readonly id: string; readonly title: string; readonly rationale?: string };
  /** The name of the `labelSelector` parameter choosing the pods in scope. */
  readonly selectorParam: string;
  readonly podControllers: readonly PodController[];
  readonly params: readonly Param[];
  readonly rules: readonly Rule[];
}

export type PodController =
  | 'Deployment'
  | 'ReplicaSet'
  | 'StatefulSet'
  | 'DaemonSet'
  | 'Job'
  | 'CronJob'
  | 'ReplicationController';
export const POD_CONTROLLERS: readonly PodController[] = [
  'Deployment',
  'ReplicaSet',
  'StatefulSet',
  'DaemonSet',
  'Job',
  'CronJob',
  'ReplicationController',
];

/** Parameter values, validated against the rule set's parameter schema. */
export interface ParamValues {
  readonly [name: string]: unknown;
  readonly actions: Readonly<Record<string, ActionSetting>>;
}

export function assertNever(x: never, what: string): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(x)}`);
}
