// The rule-writing DSL. Builders are immutable (every method returns a new builder) and have
// one exit to the IR: `RuleSetBuilder.toIR()`. The DSL knows Kubernetes pod structure, not any
// particular rule set: allowlists, field names and parameters come from spec/.

import type {
  Action,
  Check,
  CheckAction,
  Condition,
  ContainerList,
  JsonType,
  NumberExpr,
  Param,
  Path,
  Pattern,
  PodController,
  Ref,
  Rule,
  RuleSet,
  Scalar,
  Subject,
  Transform,
} from '../ir/types.ts';
import { POD_CONTROLLERS } from '../ir/types.ts';

// ---- where values come from ------------------------------------------------------------

/** The pod spec (or a controller's pod template spec). */
export const pod = {
  /** Iterate once over the pod itself. */
  itself: (): Subject => ({ kind: 'pod' }),
  field: (...path: string[]): Subject => ({ kind: 'podField', path }),
  items: (...path: string[]): Subject => ({ kind: 'podListItems', path }),
  keys: (path: Path, opts: { except: readonly string[] }): Subject => ({ kind: 'podKeys', path, except: opts.except }),
  /** Keys of each object element of a pod-level list (e.g. each volume's source), except `except`. */
  itemKeys: (path: Path, opts: { except: readonly string[] }): Subject => ({ kind: 'podListItemKeys', path, except: opts.except }),
  annotation: (name: string): Subject => ({ kind: 'annotation', name }),
  /** Every annotation whose name starts with `prefix`. */
  annotationsWithPrefix: (prefix: string): Subject => ({ kind: 'annotationPrefix', prefix }),
  /** Each element's `field` of a JSON array held in an annotation. */
  annotationJsonItems: (name: string, field: string): Subject => ({ kind: 'annotationJsonItems', name, field }),
  ref: (...path: string[]): Ref => ({ kind: 'podField', path }),
  annotationRef: (name: string): Ref => ({ kind: 'annotation', name }),
};

/** Every container of every list (containers, initContainers, ephemeralContainers). */
export const container = {
  /** Each container itself (its path is the container's), e.g. to report a field it lacks. */
  itself: (): Subject => ({ kind: 'containerField', path: [] }),
  field: (...path: string[]): Subject => ({ kind: 'containerField', path }),
  /** A field of the containers of some lists only. */
  fieldIn: (lists: readonly ContainerList[], ...path: string[]): Subject => ({ kind: 'containerField', path, lists }),
  items: (...path: string[]): Subject => ({ kind: 'containerListItems', path }),
  keys: (path: Path, opts: { except: readonly string[] }): Subject => ({ kind: 'containerKeys', path, except: opts.except }),
  /** The effective value (container when set, else pod) of a security-context field. */
  effective: (...path: string[]): Subject => ({ kind: 'effectiveField', path }),
  ref: (...path: string[]): Ref => ({ kind: 'containerField', path }),
};

export const item: Ref = { kind: 'item' };
export const itemField = (...path: string[]): Ref => ({ kind: 'itemField', path });
export const effective = (...path: string[]): Ref => ({ kind: 'effective', path });

// ---- conditions ---------------------------------------------------------------------------

export const present = (ref: Ref): Condition => ({ kind: 'present', ref });
export const absent = (ref: Ref): Condition => ({ kind: 'absent', ref });
export const hasType = (ref: Ref, type: JsonType): Condition => ({ kind: 'hasType', ref, type });
export const equals = (ref: Ref, value: Scalar): Condition => ({ kind: 'equals', ref, value });
export const oneOf = (ref: Ref, values: readonly string[], opts: { transform?: Transform } = {}): Condition => ({
  kind: 'oneOf',
  ref,
  values,
  ...opts,
});
export const matchesAny = (ref: Ref, patterns: readonly Pattern[], opts: { transform?: Transform } = {}): Condition => ({
  kind: 'matchesAny',
  ref,
  patterns,
  ...opts,
});
export const intRange = (ref: Ref, min: number, max: number): Condition => ({ kind: 'intRange', ref, min, max });
export const regex = (ref: Ref, pattern: string): Condition => ({ kind: 'regex', ref, pattern });
export const inParamList = (ref: Ref, param: string, opts: { transform?: Transform } = {}): Condition => ({
  kind: 'inParamList',
  ref,
  param,
  ...opts,
});
export const namespaceApproved = (param: string): Condition => ({ kind: 'namespaceApproved', param });
export const jsonObjectArray = (ref: Ref, stringFields: readonly string[]): Condition => ({
  kind: 'jsonObjectArray',
  ref,
  stringFields,
});
export const quantity = (ref: Ref): Condition => ({ kind: 'quantity', ref });
export const someItem = (list: Ref, condition: Condition): Condition => ({ kind: 'someItem', list, condition });
export const not = (condition: Condition): Condition => ({ kind: 'not', condition });
export const all = (...conditions: Condition[]): Condition => ({ kind: 'all', conditions });
export const any = (...conditions: Condition[]): Condition => ({ kind: 'any', conditions });
/** Present with a type other than `type`: the fail-closed check of a field. */
export const wrongType = (ref: Ref, type: JsonType): Condition => all(present(ref), not(hasType(ref, type)));

export const exact = (value: string): Pattern => ({ kind: 'exact', value });
export const prefix = (value: string): Pattern => ({ kind: 'prefix', value });
/** `kernel.shm*` → prefix, `kernel.sem` → exact. Only a trailing `*` is a wildcard. */
export function patterns(...specs: string[]): Pattern[] {
  return specs.map((s) => (s.endsWith('*') ? prefix(s.slice(0, -1)) : exact(s)));
}

// ---- numbers --------------------------------------------------------------------------------

export const intString = (ref: Ref): NumberExpr => ({ kind: 'intString', ref });
export const annotationQuantity = (
  annotation: string,
  opts: { pattern: string; separator: string; part: number },
): NumberExpr => ({ kind: 'annotationQuantity', annotation, ...opts });
export const containerQuantitySum = (list: ContainerList, fields: readonly Path[]): NumberExpr => ({
  kind: 'containerQuantitySum',
  list,
  fields,
});
export const firstDefined = (...options: NumberExpr[]): NumberExpr => ({ kind: 'firstDefined', options });
export const numberDefined = (expr: NumberExpr): Condition => ({ kind: 'numberDefined', expr });
/** left × leftScale ≤ right × rightScale (integers: exact, no rounding). */
export const atMost = (left: NumberExpr, leftScale: number, right: NumberExpr, rightScale: number): Condition => ({
  kind: 'atMost',
  left,
  leftScale,
  right,
  rightScale,
});

// ---- parameters -----------------------------------------------------------------------------

export const param = {
  stringList: (name: string, description: string): Param => ({ name, description, type: { kind: 'stringList' } }),
  /** `false`, or a list of namespaces in which the feature is approved. */
  namespaceApproval: (name: string, description: string): Param => ({
    name,
    description,
    type: { kind: 'namespaceApproval' },
  }),
  labelSelector: (name: string, description: string): Param => ({ name, description, type: { kind: 'labelSelector' } }),
};

// ---- rules ----------------------------------------------------------------------------------

export interface RuleHead {
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly action: Action;
  readonly level: 'pod' | 'container';
  readonly fix: string;
  /** Why the rule exists, citing its source (catalogue section, seed document). */
  readonly rationale?: string;
}

export interface CheckOptions {
  readonly action?: CheckAction;
  /** Report this field of the item rather than the item. */
  readonly at?: Path;
}

export class RuleBuilder {
  private constructor(
    private readonly head: RuleHead,
    private readonly checks: readonly Check[],
  ) {}

  static create(head: RuleHead): RuleBuilder {
    return new RuleBuilder(head, []);
  }

  /** A violation with the rule's action for every item of `subject` for which `violation` holds. */
  check(id: string, subject: Subject, violation: Condition, message: string, opts: CheckOptions = {}): RuleBuilder {
    const check: Check = { id, action: opts.action ?? 'rule', subject, violation, message, ...(opts.at ? { at: opts.at } : {}) };
    return new RuleBuilder(this.head, [...this.checks, check]);
  }

  /**
   * Fail closed: an item of `subject` that is present with another JSON type than `type` is a
   * `deny`, whatever the rule's action.
   */
  typed(id: string, subject: Subject, type: JsonType, message: string): RuleBuilder {
    return this.check(id, subject, not(hasType(item, type)), message, { action: 'deny' });
  }

  build(): Rule {
    return { ...this.head, checks: this.checks };
  }
}

export const rule = (head: RuleHead): RuleBuilder => RuleBuilder.create(head);

export interface RuleSetHead {
  readonly name: string;
  readonly title: string;
  readonly version: string;
  readonly inputRule: { readonly id: string; readonly title: string; readonly rationale?: string };
  readonly selector: Param;
  readonly podControllers?: readonly PodController[];
}

export class RuleSetBuilder {
  private constructor(
    private readonly head: RuleSetHead,
    private readonly params: readonly Param[],
    private readonly rules: readonly RuleBuilder[],
  ) {}

  static create(head: RuleSetHead): RuleSetBuilder {
    return new RuleSetBuilder(head, [head.selector], []);
  }

  param(p: Param): RuleSetBuilder {
    return new RuleSetBuilder(this.head, [...this.params, p], this.rules);
  }

  rule(r: RuleBuilder): RuleSetBuilder {
    return new RuleSetBuilder(this.head, this.params, [...this.rules, r]);
  }

  /** The one exit to the IR. The result is validated by src/ir/validate.ts before use. */
  toIR(): RuleSet {
    return {
      name: this.head.name,
      title: this.head.title,
      version: this.head.version,
      inputRule: this.head.inputRule,
      selectorParam: this.head.selector.name,
      podControllers: this.head.podControllers ?? POD_CONTROLLERS,
      params: this.params,
      rules: this.rules.map((r) => r.build()),
    };
  }
}

export const ruleSet = (head: RuleSetHead): RuleSetBuilder => RuleSetBuilder.create(head);
