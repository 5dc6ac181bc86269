// The rule reference as documentation: one model per rule set, rendered as Markdown by
// templates/reference/POLICIES.md.hbs (`eci-policy docs`) and as plain text by
// `eci-policy explain`. Everything comes from the build's own inputs: the IR (what, why, how to
// fix, the parameters a rule reads, found by walking its conditions), the parameter file (the
// values in force) and the fixture corpus (a failing and a passing example per rule, with the
// expected violations, which come from the catalogue). A function of its inputs: deterministic.

import { readFileSync } from 'node:fs';
import { relative, sep } from 'node:path';
import { isNode, parseDocument, stringify } from 'yaml';
import type { Fixture } from '../../fixtures/corpus.ts';
import { paramsReadBy } from '../../ir/params.ts';
import type { Action, ActionSetting, Param, ParamValues, RuleSet } from '../../ir/types.ts';
import { assertNever } from '../../ir/types.ts';
import { lowerReference } from './lower.ts';

export interface ExampleDoc {
  /** The fixture file, relative to the working folder. */
  readonly fixture: string;
  readonly description: string;
  /** The fixture's parameter overrides (YAML, one line), or null when it uses the parameter file. */
  readonly params: string | null;
  /** The input exactly as the fixture writes it (YAML). */
  readonly input: string;
  /** The expected violations (YAML), or null for none. */
  readonly expect: string | null;
}

export interface RuleDoc {
  readonly id: string;
  readonly title: string;
  readonly level: string;
  /** The rule's default action. */
  readonly action: Action;
  /** Whether the `actions` parameter can change it (the input rule's cannot). */
  readonly overridable: boolean;
  /** The action the parameter file sets, when it differs from the default; else null. */
  readonly configuredAction: ActionSetting | null;
  /** When the rule reports with two actions (the input rule), when each applies, read after the action; else null. */
  readonly actionDetail: string | null;
  readonly what: string;
  readonly why: string | null;
  readonly fix: string;
  /** The parameters the rule's checks read. */
  readonly params: readonly { readonly name: string; readonly description: string }[];
  /** The fixture folder the examples come from (relative to the working folder). */
  readonly examplesFrom: string;
  readonly failing: ExampleDoc | null;
  readonly passing: ExampleDoc | null;
}

export interface ParamDoc {
  readonly name: string;
  readonly description: string;
  /** What values it takes. */
  readonly type: string;
  /** Its value in the parameter file (YAML, one line). */
  readonly value: string;
  /** The rules reading it, or a phrase for the selector (every rule). */
  readonly readBy: readonly string[];
}

export interface RuleSetDoc {
  readonly name: string;
  readonly title: string;
  readonly version: string;
  readonly spec: string;
  readonly paramsFile: string;
  readonly fixturesDir: string;
  readonly selector: string;
  readonly rules: readonly RuleDoc[];
  readonly params: readonly ParamDoc[];
  /** The rule IDs the `actions` parameter may name. */
  readonly overridableRules: readonly string[];
  /** The `actions` value in the parameter file (YAML, one line). */
  readonly actionsValue: string;
}

export interface DocsTemplateInput {
  readonly ruleSets: readonly RuleSetDoc[];
}

/** What `lowerDocs` reads for one rule set (the build's load stages give it). */
export interface DocsSource {
  readonly ruleSet: RuleSet;
  readonly params: ParamValues;
  readonly fixtures: readonly Fixture[];
  /** Paths as shown in the document, relative to the working folder. */
  readonly display: { readonly spec: string; readonly params: string; readonly fixtures: string };
}

/** YAML on one line (flow style), e.g. `{ matchLabels: { alibabacloud.com/eci: "true" } }`. */
const oneLine = (v: unknown): string => stringify(v, { collectionStyle: 'flow', lineWidth: 0 }).trimEnd();

function paramType(p: Param): string {
  switch (p.type.kind) {
    case 'stringList':
      return 'a list of strings';
    case 'namespaceApproval':
      return 'false, or a list of namespaces';
    case 'labelSelector':
      return 'a label selector ({matchLabels: {key: value}})';
    default:
      return assertNever(p.type, 'parameter type');
  }
}

/**
 * The fixture's `input` as its file writes it: the node's source text, re-indented to column 0
 * (comments and flow style kept). Falls back to YAML re-serialised from the value.
 */
export function inputSource(fixture: Fixture): string {
  const text = readFileSync(fixture.file, 'utf8');
  const doc = parseDocument(text, { uniqueKeys: true });
  const node = doc.get('input', true);
  if (!isNode(node) || !node.range) return stringify(fixture.input).trimEnd();
  const [start, end] = node.range;
  const column = start - (text.lastIndexOf('\n', start - 1) + 1);
  const lines = text.slice(start, end).trimEnd().split('\n');
  const indent = ' '.repeat(column);
  return lines.map((l, i) => (i === 0 ? l : l.startsWith(indent) ? l.slice(column) : l.trimStart())).join('\n');
}

function example(fixture: Fixture, cwd: string): ExampleDoc {
  return {
    fixture: relative(cwd, fixture.file).split(sep).join('/'),
    description: fixture.description,
    params: fixture.params ? oneLine(fixture.params) : null,
    input: inputSource(fixture),
    expect: fixture.expect.length ? stringify(fixture.expect).trimEnd() : null,
  };
}

/** A fixture's group: its folder under test/fixtures/<rule-set>/ (by convention a rule ID). */
const groupOf = (f: Fixture): string => f.name.split(/[\\/]/).slice(1, -1).join('/');

/** Sort keys compared in order; the fixture name last, so that the choice is deterministic. */
function best(fixtures: readonly Fixture[], keys: (f: Fixture) => number[]): Fixture | undefined {
  const ranked = fixtures.map((f) => ({ f, k: [...keys(f), 0] }));
  ranked.sort((a, b) => {
    for (let i = 0; i < a.k.length; i++) if (a.k[i] !== b.k[i]) return a.k[i]! - b.k[i]!;
    // By name without `.yaml`, so that fail-x comes before fail-x-variant.
    const [x, y] = [a.f.name.replace(/\.yaml$/, ''), b.f.name.replace(/\.yaml$/, '')];
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return ranked[0]?.f;
}

const baseName = (f: Fixture): string => f.name.split(/[\\/]/).pop() ?? f.name;
const isBarePod = (f: Fixture): boolean => (f.input as { kind?: unknown } | null)?.kind === 'Pod';

/**
 * The examples of a rule: from the fixture folder named by its ID, else from the folder holding
 * most fixtures with a violation of it (the input rule's are in input-shapes/). The failing one
 * expects a violation of the rule, the passing one nothing at all. Preferred, in order: the
 * parameter file's values (no overrides), a `fail-`/`pass-` name, a bare Pod, only violations
 * of this rule, one with the rule's own action (not a type check's deny); then by name.
 */
function examplesOf(id: string, action: Action, fixtures: readonly Fixture[]) {
  const violates = (f: Fixture) => f.expect.some((e) => e.rule === id);
  let group = fixtures.some((f) => groupOf(f) === id) ? id : undefined;
  if (!group) {
    const counts = new Map<string, number>();
    for (const f of fixtures.filter(violates)) counts.set(groupOf(f), (counts.get(groupOf(f)) ?? 0) + 1);
    group = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0]?.[0];
  }
  const inGroup = fixtures.filter((f) => groupOf(f) === group);
  const flag = (b: boolean) => (b ? 0 : 1);
  const failing = best(inGroup.filter(violates), (f) => [
    flag(!f.params),
    flag(baseName(f).startsWith('fail-')),
    flag(isBarePod(f)),
    flag(f.expect.every((e) => e.rule === id)),
    flag(f.expect.some((e) => e.rule === id && e.action === action)),
  ]);
  const passing = best(
    inGroup.filter((f) => f.expect.length === 0),
    (f) => [flag(!f.params), flag(baseName(f).startsWith('pass-')), flag(isBarePod(f))],
  );
  return { group, failing, passing };
}

export function lowerDocs(source: DocsSource, cwd: string): RuleSetDoc {
  const { ruleSet: rs, params, fixtures, display } = source;
  const reference = lowerReference(rs);
  const irRules = new Map(rs.rules.map((r) => [r.id, r]));
  const describe = new Map(rs.params.map((p) => [p.name, p.description]));
  const fixturesDir = display.fixtures.split(sep).join('/');
  const rules = reference.rules.map((ref): RuleDoc => {
    const ir = irRules.get(ref.id);
    const action = ref.action as Action;
    const configured = params.actions[ref.id];
    const ex = examplesOf(ref.id, action, fixtures);
    const reads = ir ? paramsReadBy(ir) : [];
    return {
      id: ref.id,
      title: ref.title,
      level: ref.level,
      action,
      overridable: ir !== undefined,
      configuredAction: configured !== undefined && configured !== action ? configured : null,
      // The input rule: deny for what cannot be read, warn for a kind that is not checked.
      actionDetail: ir ? null : 'for a resource that cannot be read; warn for a resource of a kind that is not checked',
      what: ref.description,
      why: (ir ? ir.rationale : rs.inputRule.rationale) ?? null,
      fix: ref.fix,
      params: reads.map((name) => ({ name, description: describe.get(name) ?? '' })),
      examplesFrom: ex.group === undefined ? fixturesDir : `${fixturesDir}/${ex.group}`,
      failing: ex.failing ? example(ex.failing, cwd) : null,
      passing: ex.passing ? example(ex.passing, cwd) : null,
    };
  });
  const readers = (name: string) => rs.rules.filter((r) => paramsReadBy(r).includes(name)).map((r) => r.id);
  return {
    name: rs.name,
    title: rs.title,
    version: rs.version,
    spec: display.spec.split(sep).join('/'),
    paramsFile: display.params.split(sep).join('/'),
    fixturesDir,
    selector: rs.selectorParam,
    rules,
    params: rs.params.map((p) => ({
      name: p.name,
      description: p.description,
      type: paramType(p),
      value: oneLine(params[p.name]),
      readBy: p.name === rs.selectorParam ? ['every rule (the resources in scope)'] : readers(p.name),
    })),
    overridableRules: rs.rules.map((r) => r.id),
    actionsValue: oneLine(params.actions),
  };
}
