// The verification matrix: every fixture through OPA WASM, native `opa eval` and `kyverno
// apply`, each result normalised to the facts of ECI-RULES.md.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompiledRuleSet } from '../../src/emit/build.ts';
import { COMPILER_VERSION } from '../../src/emit/build.ts';
import { render } from '../../src/targets/render.ts';
import { buildWasmBundle } from '../../src/emit/bundle.ts';
import { findEngine } from '../../src/emit/engines.ts';
import { loadWasmPolicy } from '../../src/eval/wasm.ts';
import type { ParamValues } from '../../src/ir/types.ts';
import { lowerRuleSet as lowerKyverno, MESSAGE_SEPARATOR } from '../../src/targets/kyverno/lower.ts';
import { fixtureParams, wasmOf } from './compiled.ts';
import { kyvernoApplyBatch, opaEvalBatch } from './engines.ts';
import type { Facts } from './facts.ts';
import { admissionObject, getPath, templatePath, type Fixture } from '../../src/fixtures/corpus.ts';

export type EngineName = 'opa-wasm' | 'opa' | 'kyverno';

export interface MatrixRow {
  readonly fixture: Fixture;
  readonly results: Partial<Record<EngineName, readonly Facts[]>>;
  /** Why the Kyverno leg does not apply to this fixture, when it does not. */
  readonly kyvernoNotApplicable?: string;
}

function podSpecOf(object: Record<string, unknown>): Record<string, unknown> | undefined {
  return getPath(object, [...templatePath(object['kind']), 'spec']) as Record<string, unknown> | undefined;
}

/** Changes to the generated artefacts before they are run (to prove each leg catches a bug). */
export interface Mutation {
  readonly rego?: (text: string) => string;
  readonly kyverno?: (text: string) => string;
}

const regoOf = (c: CompiledRuleSet, mutation: Mutation) => (mutation.rego ?? ((t) => t))(c.files.get('rego/policy.rego') as string);

/**
 * The OPA WASM leg, loaded once and reusable (the bundle is rebuilt from the mutated Rego when
 * there is a Rego mutation): the facts for each fixture.
 */
export async function wasmLeg(c: CompiledRuleSet, mutation: Mutation = {}): Promise<(fixtures: readonly Fixture[]) => Facts[][]> {
  const rs = c.ruleSet;
  let wasm = wasmOf(c);
  if (mutation.rego) {
    const opa = findEngine('opa');
    if (!opa) throw new Error('opa is needed to rebuild the mutated bundle');
    const r = buildWasmBundle(opa, { packageName: rs.name, rego: regoOf(c, mutation), params: c.params, metadata: {} });
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
    wasm = r.value.get('policy.wasm')!;
  }
  const policy = await loadWasmPolicy(wasm, rs.name, c.params);
  return (fixtures) =>
    fixtures.map((f) => {
      policy.setParams(fixtureParams(c, f));
      return policy.violations(f.input);
    });
}

export async function runMatrix(
  c: CompiledRuleSet,
  fixtures: readonly Fixture[],
  legs: readonly EngineName[],
  mutation: Mutation = {},
): Promise<MatrixRow[]> {
  const rs = c.ruleSet;
  const params = fixtures.map((f) => fixtureParams(c, f));
  const rows = fixtures.map((fixture) => ({ fixture, results: {} as Partial<Record<EngineName, readonly Facts[]>>, kyvernoNotApplicable: undefined as string | undefined }));

  if (legs.includes('opa-wasm')) {
    (await wasmLeg(c, mutation))(fixtures).forEach((facts, i) => (rows[i]!.results['opa-wasm'] = facts));
  }

  if (legs.includes('opa')) {
    const work = mkdtempSync(join(tmpdir(), 'eci-rego-'));
    try {
      const rego = join(work, 'policy.rego');
      writeFileSync(rego, regoOf(c, mutation));
      const results = await opaEvalBatch([rego], rs.name, fixtures.map((f, i) => ({ input: f.input, params: params[i] })));
      results.forEach((r, i) => (rows[i]!.results['opa'] = r));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  if (legs.includes('kyverno')) {
    const groups = new Map<string, { params: ParamValues; members: { row: number; object: Record<string, unknown> }[] }>();
    fixtures.forEach((f, i) => {
      const adm = admissionObject(f, rs.inputRule.id);
      if ('reason' in adm) {
        rows[i]!.kyvernoNotApplicable = adm.reason;
        return;
      }
      const key = JSON.stringify(params[i]);
      if (!groups.has(key)) groups.set(key, { params: params[i]!, members: [] });
      groups.get(key)!.members.push({ row: i, object: adm.object });
    });
    const header = { compilerVersion: COMPILER_VERSION, source: 'test harness', ruleSet: rs.name, ruleSetVersion: rs.version };
    // Two kyverno processes at a time (machines here have 2 cores). The CLI is single-threaded,
    // so a large group is cut into chunks that both can work on (a few seconds of start-up each).
    const total = [...groups.values()].reduce((n, g) => n + g.members.length, 0);
    const chunk = Math.max(20, Math.ceil(total / 4));
    const queue = [...groups.values()].flatMap((g) =>
      Array.from({ length: Math.ceil(g.members.length / chunk) }, (_, k) => ({ params: g.params, members: g.members.slice(k * chunk, (k + 1) * chunk) })),
    );
    const worker = async () => {
      for (let g = queue.shift(); g; g = queue.shift()) await applyGroup(g);
    };
    const applyGroup = async (g: { params: ParamValues; members: { row: number; object: Record<string, unknown> }[] }) => {
      {
        const lowered = lowerKyverno(rs, g.params);
        const rules = new Map(
          lowered.rules.map((r) => [r.name, { ruleId: r.ruleId, separator: MESSAGE_SEPARATOR, action: r.failureAction === 'Enforce' ? ('deny' as const) : ('warn' as const) }]),
        );
        const policy = (mutation.kyverno ?? ((t) => t))(render('kyverno/clusterpolicy.yaml', lowered, header));
        const results = await kyvernoApplyBatch(policy, g.members.map((m) => ({ object: m.object })), (name) => rules.get(name));
        results.forEach((facts, k) => {
          const { row, object } = g.members[k]!;
          const spec = podSpecOf(object);
          rows[row]!.results['kyverno'] = facts.map(({ index, ...f }) => {
            if (f.list === undefined || index === undefined) return f;
            const ctr = (spec?.[f.list] as Record<string, unknown>[] | undefined)?.[index];
            const name = ctr && typeof ctr === 'object' ? ctr['name'] : undefined;
            return { ...f, container: typeof name === 'string' ? name : '' };
          });
        });
      }
    };
    await Promise.all([worker(), worker()]);
  }
  return rows;
}
