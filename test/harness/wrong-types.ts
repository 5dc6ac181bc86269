// Generating wrong-type cases (issue 5, part 1): each field a rule reads, and each parent on its
// path, gets every wrong JSON type in turn (and null, which is absent), in a Pod (every container
// list) and a Deployment. The expected verdict is a deny of the field's owner at its path.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ExpectedViolation, Fixture } from '../../src/fixtures/corpus.ts';
import { compiled } from './compiled.ts';
import { compareFacts, formatDiff } from './facts.ts';
import { ALL_LEGS, compareOptions, runMatrix, type EngineName } from './matrix.ts';

export type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';
type Segment = string | number;

/** A value of each JSON type; `fraction` is a number that is not an integer. */
const SAMPLES: Record<string, unknown> = {
  string: 'x',
  number: 7,
  fraction: 1.5,
  boolean: true,
  array: ['x'],
  object: { x: 'y' },
};

function wrongSamples(type: JsonType): [string, unknown][] {
  const ok: Record<JsonType, string[]> = {
    string: ['string'],
    number: ['number', 'fraction'],
    integer: ['number'],
    boolean: ['boolean'],
    array: ['array'],
    object: ['object'],
  };
  return Object.entries(SAMPLES).filter(([name]) => !ok[type].includes(name));
}

export interface FieldCase {
  /** Path from the pod spec (pod level) or from the container (container level). */
  readonly path: readonly Segment[];
  readonly type: JsonType;
  /** The rule that owns the field: a wrong type there is a deny of this rule. */
  readonly owner: string;
  readonly level: 'pod' | 'container';
  /** Kubernetes requires the field: absent (null) is malformed too. */
  readonly required?: boolean;
  /**
   * What other rules report when the field is null (absent): fields the rule set requires under
   * it, each a rule and a path from the container (the field's own, or the first one for a
   * pod-level field).
   */
  readonly whenAbsent?: readonly { readonly rule: string; readonly path: readonly Segment[] }[];
}

export interface CaseOptions {
  readonly labels: Readonly<Record<string, string>>;
  /** The compliant pod spec each case starts from (e.g. one meeting every Restricted control). */
  readonly base?: (spec: Record<string, unknown>) => Record<string, unknown>;
  /** Other fields a case needs to be meaningful (e.g. a sysctl name beside a bad value). */
  readonly prepare?: (spec: Record<string, unknown>, field: FieldCase) => Record<string, unknown>;
  /** Violations the rule set reports whatever the value (e.g. ECI's not-honoured warnings). */
  readonly alsoExpected?: (field: FieldCase, path: string) => readonly ExpectedViolation[];
}

const LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/** `base` with `value` written at `path` (creating objects and one-element lists on the way). */
export function setAt(base: Record<string, unknown>, path: readonly Segment[], value: unknown): Record<string, unknown> {
  const root = structuredClone(base);
  let node: Record<Segment, unknown> = root;
  path.forEach((key, i) => {
    if (i === path.length - 1) node[key] = value;
    else {
      if (node[key] === undefined) node[key] = typeof path[i + 1] === 'number' ? [] : {};
      node = node[key] as Record<Segment, unknown>;
    }
  });
  return root;
}

const formatPath = (segs: readonly Segment[]) => segs.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');

function podSpec(list: (typeof LISTS)[number]): Record<string, unknown> {
  const spec: Record<string, unknown> = { containers: [{ name: 'app', image: 'nginx' }] };
  if (list !== 'containers') spec[list] = [{ name: 'extra', image: 'busybox' }];
  return spec;
}

function wrap(kind: 'Pod' | 'Deployment', spec: Record<string, unknown>, labels: Readonly<Record<string, string>>): { input: Record<string, unknown>; prefix: string[] } {
  if (kind === 'Pod') return { input: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team-a', labels }, spec }, prefix: ['spec'] };
  return {
    input: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 'team-a' },
      spec: { selector: { matchLabels: labels }, template: { metadata: { labels }, spec } },
    },
    prefix: ['spec', 'template', 'spec'],
  };
}

export function wrongTypeCases(fields: readonly FieldCase[], opts: CaseOptions): Fixture[] {
  const out: Fixture[] = [];
  for (const kind of ['Pod', 'Deployment'] as const) {
    for (const field of fields) {
      // Every list in a Pod; the Deployment adds the template paths, with the containers list.
      const lists = field.level === 'container' && kind === 'Pod' ? LISTS : (['containers'] as const);
      for (const list of lists) {
        const where = field.level === 'pod' ? field.path : [list, 0, ...field.path];
        for (const [typeName, value] of [...wrongSamples(field.type), ['null', null] as [string, unknown]]) {
          const base = (opts.base ?? ((s) => s))(podSpec(list));
          const spec = (opts.prepare ?? ((s) => s))(setAt(base, where, value), field);
          const { input, prefix } = wrap(kind, spec, opts.labels);
          const path = formatPath([...prefix, ...where]);
          const container = field.level === 'container' ? { list, container: list === 'containers' ? 'app' : 'extra' } : {};
          // null is an absent field; a null list element is not a field, and is malformed.
          const absent = value === null && typeof where[where.length - 1] !== 'number' && !field.required;
          // Required fields under an absent one: reported in the field's container (or the first).
          const ctrList = field.level === 'container' ? list : 'containers';
          const required = (field.whenAbsent ?? []).map(
            (r) =>
              ({
                rule: r.rule,
                action: 'deny',
                path: formatPath([...prefix, ctrList, 0, ...r.path]),
                list: ctrList,
                container: ctrList === 'containers' ? 'app' : 'extra',
              }) as ExpectedViolation,
          );
          const expect: ExpectedViolation[] = absent
            ? required
            : [{ rule: field.owner, action: 'deny', path, ...container } as ExpectedViolation, ...(opts.alsoExpected?.(field, path) ?? [])];
          out.push({ file: '(generated)', name: `${kind} ${path} = ${typeName}`, description: `${field.owner} owns ${path}; a ${typeName} there fails closed`, input, expect });
        }
      }
    }
  }
  return out;
}

/**
 * Runs the cases through the engines (LEGS=<a,b> narrows them while working; the full suite runs
 * all three), prints the counts, and registers one uvu test per case and engine.
 */
export async function judgeWrongTypes(ruleSet: string, fixtures: readonly Fixture[], minimumCases: number): Promise<void> {
  const legs = (process.env['LEGS']?.split(',') ?? ALL_LEGS) as EngineName[];
  const rows = await runMatrix(await compiled(ruleSet), fixtures, legs);
  const judged = rows.reduce((n, r) => n + Object.keys(r.results).length, 0);
  const allowedWhenMalformed = rows.filter((r) => r.fixture.expect.length && legs.some((leg) => r.results[leg]?.length === 0)).length;
  process.stdout.write(`\n[wrong-types] ${ruleSet}: ${fixtures.length} cases × ${legs.length} engines = ${judged} evaluations; ${allowedWhenMalformed} allowed when malformed\n`);

  test(`${ruleSet}: every case was judged by every engine`, () => {
    assert.ok(fixtures.length >= minimumCases, `${fixtures.length} cases`);
    assert.is(judged, fixtures.length * legs.length);
  });
  for (const row of rows) {
    for (const leg of legs) {
      test(`${leg}: ${row.fixture.name}`, () => {
        const diff = compareFacts(row.fixture.expect, row.results[leg]!, compareOptions(leg));
        if (diff.missing.length || diff.unexpected.length) assert.unreachable(formatDiff(row.fixture.name, leg, diff));
      });
    }
  }
}
