// The rule reference as data (`generated/<rule-set>/reference/rules.json`): what each rule is,
// its action and how to fix a violation. `audit` reads it for fix hints next to a bundle.

import type { RuleSet } from '../../ir/types.ts';

export interface RuleReference {
  readonly ruleSet: string;
  readonly title: string;
  readonly version: string;
  readonly rules: readonly {
    readonly id: string;
    readonly title: string;
    readonly description: string;
    readonly action: string;
    readonly level: string;
    readonly fix: string;
  }[];
  readonly params: readonly { readonly name: string; readonly description: string }[];
}

export function lowerReference(rs: RuleSet): RuleReference {
  return {
    ruleSet: rs.name,
    title: rs.title,
    version: rs.version,
    rules: [
      {
        id: rs.inputRule.id,
        title: rs.inputRule.title,
        description: 'A pod or pod controller whose pod spec, metadata or container lists have the wrong types fails closed (deny); a resource of another kind is reported as not checked (warn).',
        action: 'deny',
        level: 'pod',
        fix: 'Give the pod spec, metadata and container lists the types Kubernetes defines; other kinds need nothing (the warning says they were not checked).',
      },
      ...rs.rules.map((r) => ({ id: r.id, title: r.title, description: r.description, action: r.action, level: r.level, fix: r.fix })),
    ],
    params: rs.params.map((p) => ({ name: p.name, description: p.description })),
  };
}

export function referenceJson(rs: RuleSet): string {
  return `${JSON.stringify(lowerReference(rs), null, 2)}\n`;
}
