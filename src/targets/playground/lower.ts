// The playground's data for one rule set: what the page needs besides the policy itself. The
// rules with their reference (the `explain` text), the parameters as a form reads them, the
// defaults, and the fixture corpus as examples (each input as its file writes it). A function of
// the build's inputs, so the page is as deterministic as the rest of generated/.

import type { Fixture } from '../../fixtures/corpus.ts';
import { fixtureParams } from '../../fixtures/corpus.ts';
import type { Action, ParamValues, RuleSet } from '../../ir/types.ts';
import { inputSource, lowerDocs, type DocsSource } from '../reference/docs.ts';
import { formatExplain } from '../reference/explain.ts';

export interface PlaygroundRule {
  readonly id: string;
  readonly title: string;
  readonly action: Action;
  /** `eci-policy explain <id>`'s text. */
  readonly explain: string;
}

export interface PlaygroundParam {
  readonly name: string;
  readonly description: string;
  readonly kind: 'stringList' | 'namespaceApproval' | 'labelSelector';
}

export interface PlaygroundExample {
  /** The fixture's path under test/fixtures/ (its menu label). */
  readonly name: string;
  readonly description: string;
  /** The parameters in force for it: the defaults, or the fixture's overrides merged over them. */
  readonly params: ParamValues | null;
  /** The input as the fixture file writes it. */
  readonly text: string;
  /** How many violations the catalogue expects (0: a passing example). */
  readonly expected: number;
}

export interface PlaygroundData {
  readonly ruleSet: { readonly name: string; readonly title: string; readonly version: string };
  readonly defaults: ParamValues;
  readonly params: readonly PlaygroundParam[];
  /** The rules the `actions` parameter may set (deny, warn or off). */
  readonly overridableRules: readonly string[];
  readonly rules: readonly PlaygroundRule[];
  readonly examples: readonly PlaygroundExample[];
}

export function lowerPlayground(source: DocsSource, cwd: string): PlaygroundData {
  const rs: RuleSet = source.ruleSet;
  const doc = lowerDocs(source, cwd);
  return {
    ruleSet: { name: rs.name, title: doc.title, version: rs.version },
    defaults: source.params,
    params: rs.params.map((p) => ({ name: p.name, description: p.description, kind: p.type.kind })),
    overridableRules: doc.overridableRules,
    rules: doc.rules.map((r) => ({ id: r.id, title: r.title, action: r.action, explain: formatExplain(doc, r) })),
    examples: source.fixtures.map((f: Fixture) => ({
      name: f.name,
      description: f.description,
      params: f.params ? fixtureParams(rs, source.params, f) : null,
      text: inputSource(f),
      expected: f.expect.length,
    })),
  };
}
