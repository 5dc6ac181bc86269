// Fail closed, systematically (issue 5, part 1): every field an ECI rule reads, and each parent
// object or list on its path, is given every wrong JSON type in turn, in a Pod (every container
// list) and in a Deployment. Every engine must report a deny of the field's owner at
// its path (owners as listed in ECI-RULES.md, "Malformed input fails closed"), nothing else but
// the warnings the catalogue gives whatever the value (ECI-POD-004 / ECI-CTR-008), and must not
// crash. `null` means absent: no violation at all.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ExpectedViolation, Fixture } from '../../src/fixtures/corpus.ts';
import { compiled } from '../harness/compiled.ts';
import { compareFacts, formatDiff } from '../harness/facts.ts';
import { runMatrix, type EngineName } from '../harness/matrix.ts';

type JsonType = 'string' | 'number' | 'integer' | 'boolean' | 'array' | 'object';

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

interface FieldCase {
  /** Path from the pod spec (pod level) or from the container (container level). */
  readonly path: readonly (string | number)[];
  readonly type: JsonType;
  /** The owner in ECI-RULES.md. */
  readonly owner: string;
  readonly level: 'pod' | 'container';
  /** Pod-level securityContext fields ECI does not honour are warned about whatever their value. */
  readonly podWarn?: boolean;
  /** Kubernetes requires the field: absent (null) is malformed too. */
  readonly required?: boolean;
  /** Other fields the case needs to be meaningful (e.g. the sysctl name for a value). */
  readonly with?: (set: (value: unknown) => Record<string, unknown>) => Record<string, unknown>;
}

// Transcribed from ECI-RULES.md, "Malformed input fails closed": the owner of each field.
const FIELDS: readonly FieldCase[] = [
  { level: 'pod', path: ['securityContext'], type: 'object', owner: 'ECI-POD-004' },
  { level: 'pod', path: ['securityContext', 'sysctls'], type: 'array', owner: 'ECI-POD-001' },
  { level: 'pod', path: ['securityContext', 'sysctls', 0], type: 'object', owner: 'ECI-POD-001' },
  { level: 'pod', path: ['securityContext', 'sysctls', 0, 'name'], type: 'string', owner: 'ECI-POD-001', required: true },
  { level: 'pod', path: ['securityContext', 'sysctls', 0, 'value'], type: 'string', owner: 'ECI-POD-001' },
  { level: 'pod', path: ['securityContext', 'runAsUser'], type: 'integer', owner: 'ECI-CTR-005' },
  { level: 'pod', path: ['securityContext', 'runAsGroup'], type: 'integer', owner: 'ECI-CTR-005', podWarn: true },
  { level: 'pod', path: ['securityContext', 'runAsNonRoot'], type: 'boolean', owner: 'ECI-CTR-003', podWarn: true },
  { level: 'container', path: ['securityContext'], type: 'object', owner: 'ECI-CTR-008' },
  { level: 'container', path: ['securityContext', 'runAsUser'], type: 'integer', owner: 'ECI-CTR-005' },
  { level: 'container', path: ['securityContext', 'runAsGroup'], type: 'integer', owner: 'ECI-CTR-005' },
  { level: 'container', path: ['securityContext', 'runAsNonRoot'], type: 'boolean', owner: 'ECI-CTR-003' },
  { level: 'container', path: ['securityContext', 'privileged'], type: 'boolean', owner: 'ECI-CTR-002' },
  { level: 'container', path: ['securityContext', 'capabilities'], type: 'object', owner: 'ECI-CTR-001' },
  { level: 'container', path: ['securityContext', 'capabilities', 'add'], type: 'array', owner: 'ECI-CTR-001' },
  { level: 'container', path: ['securityContext', 'capabilities', 'add', 0], type: 'string', owner: 'ECI-CTR-001' },
  { level: 'container', path: ['securityContext', 'procMount'], type: 'string', owner: 'ECI-CTR-006' },
  { level: 'container', path: ['securityContext', 'readOnlyRootFilesystem'], type: 'boolean', owner: 'ECI-CTR-007' },
];

const LABELS = { 'alibabacloud.com/eci': 'true' };
const LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;

/** `base` with `value` written at `path` (creating objects and one-element lists on the way). */
function setAt(base: Record<string, unknown>, path: readonly (string | number)[], value: unknown): Record<string, unknown> {
  const root = structuredClone(base);
  let node: Record<string | number, unknown> = root;
  path.forEach((key, i) => {
    if (i === path.length - 1) node[key] = value;
    else {
      if (node[key] === undefined) node[key] = typeof path[i + 1] === 'number' ? [] : {};
      node = node[key] as Record<string | number, unknown>;
    }
  });
  return root;
}

const formatPath = (segs: readonly (string | number)[]) =>
  segs.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');

function podSpec(list: (typeof LISTS)[number]): Record<string, unknown> {
  const spec: Record<string, unknown> = { containers: [{ name: 'app', image: 'nginx' }] };
  if (list !== 'containers') spec[list] = [{ name: 'extra', image: 'busybox' }];
  return spec;
}

function wrap(kind: 'Pod' | 'Deployment', spec: Record<string, unknown>): { input: Record<string, unknown>; prefix: string[] } {
  if (kind === 'Pod')
    return { input: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'team-a', labels: LABELS }, spec }, prefix: ['spec'] };
  return {
    input: {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd', namespace: 'team-a' },
      spec: { selector: { matchLabels: LABELS }, template: { metadata: { labels: LABELS }, spec } },
    },
    prefix: ['spec', 'template', 'spec'],
  };
}

function cases(): Fixture[] {
  const out: Fixture[] = [];
  for (const kind of ['Pod', 'Deployment'] as const) {
    for (const field of FIELDS) {
      // Every list in a Pod; the Deployment adds the template paths, with the containers list.
      const lists = field.level === 'container' && kind === 'Pod' ? LISTS : (['containers'] as const);
      for (const list of lists) {
        const where = field.level === 'pod' ? field.path : [list, 0, ...field.path];
        const samples: [string, unknown][] = [...wrongSamples(field.type), ['null', null]];
        for (const [typeName, value] of samples) {
          let spec = setAt(podSpec(list), where, value);
          // A sysctl entry needs a supported name, so the value is what is malformed.
          if (field.path[2] === 0 && field.path[3] === 'value') spec = setAt(spec, ['securityContext', 'sysctls', 0, 'name'], 'net.core.somaxconn');
          const { input, prefix } = wrap(kind, spec);
          const path = formatPath([...prefix, ...where]);
          const container = field.level === 'container' ? { list, container: list === 'containers' ? 'app' : 'extra' } : {};
          // null is an absent field; a null list element is not a field, and is malformed.
          const absent = value === null && typeof where[where.length - 1] !== 'number' && !field.required;
          const expect: ExpectedViolation[] =
            absent
              ? []
              : [
                  { rule: field.owner, action: 'deny', path, ...container } as ExpectedViolation,
                  ...(field.podWarn
                    ? [{ rule: 'ECI-POD-004', action: 'warn', path } as ExpectedViolation]
                    : []),
                ];
          out.push({
            file: '(generated)',
            name: `${kind} ${path} = ${typeName}`,
            description: `${field.owner} owns ${path}; a ${typeName} there fails closed`,
            input,
            expect,
          });
        }
      }
    }
  }
  return out;
}

const LEGS: EngineName[] = ['opa-wasm', 'opa', 'kyverno'];
const fixtures = cases();
const rows = await runMatrix(await compiled('eci'), fixtures, LEGS);
const judged = rows.reduce((n, r) => n + Object.keys(r.results).length, 0);
const allowedWhenMalformed = rows.filter((r) => r.fixture.expect.length && LEGS.some((leg) => r.results[leg]?.length === 0)).length;
process.stdout.write(
  `\n[wrong-types] ${fixtures.length} cases × ${LEGS.length} engines = ${judged} evaluations; ` +
    `${allowedWhenMalformed} allowed when malformed\n`,
);

test('every case was judged by every engine', () => {
  assert.ok(fixtures.length > 250, `${fixtures.length} cases`);
  assert.is(judged, fixtures.length * LEGS.length);
});

for (const row of rows) {
  for (const leg of LEGS) {
    test(`${leg}: ${row.fixture.name}`, () => {
      const diff = compareFacts(row.fixture.expect, row.results[leg]!, leg === 'kyverno' ? { ignore: ['value'] } : {});
      if (diff.missing.length || diff.unexpected.length) assert.unreachable(formatDiff(row.fixture.name, leg, diff));
    });
  }
}

test.run();
