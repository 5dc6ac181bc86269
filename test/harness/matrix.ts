// The verification matrix: every fixture through OPA WASM, native `opa eval` and `kyverno
// apply` (the ClusterPolicy, the ValidatingPolicies, and the ValidatingAdmissionPolicies with
// their bindings and parameters), each result normalised to the facts of ECI-RULES.md.

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
import { conftestBatch, gatorBatch, kyvernoApplyBatch, kyvernoVpolBatch, opaEvalBatch } from './engines.ts';
import { GATEKEEPER_SEPARATOR, lowerRuleSet as lowerGatekeeper } from '../../src/targets/gatekeeper/lower.ts';
import { lowerRuleSet as lowerRego } from '../../src/targets/rego/lower.ts';
import { lowerRuleSet as lowerVpol, VPOL_SEPARATOR } from '../../src/targets/kyverno-vpol/lower.ts';
import { lowerRuleSet as lowerVap, VAP_SEPARATOR } from '../../src/targets/vap/lower.ts';
import type { CompareOptions, Facts } from './facts.ts';
import { admissionObject, getPath, templatePath, type Fixture } from '../../src/fixtures/corpus.ts';

export type EngineName = 'opa-wasm' | 'opa' | 'conftest' | 'kyverno' | 'kyverno-vpol' | 'vap' | 'gator-cel' | 'gator-rego';

/** The legs that evaluate an admitted object (a Pod or pod controller), not any document. */
export const ADMISSION_LEGS: readonly EngineName[] = ['kyverno', 'kyverno-vpol', 'vap', 'gator-cel', 'gator-rego'];
/** Every leg, in the order the reports list them. */
export const ALL_LEGS: readonly EngineName[] = ['opa-wasm', 'opa', 'conftest', 'kyverno', 'kyverno-vpol', 'vap', 'gator-cel', 'gator-rego'];
/**
 * What a leg's facts can be compared on: the CEL legs' messages carry no values, and
 * conftest's (the package's deny/warn strings) carry them cut at 200 characters. The gator
 * Rego leg returns the violation objects themselves, values included.
 */
export const compareOptions = (leg: EngineName): CompareOptions =>
  leg === 'gator-rego' ? {} : leg === 'conftest' || ADMISSION_LEGS.includes(leg) ? { ignore: ['value'] } : {};

export interface MatrixRow {
  readonly fixture: Fixture;
  readonly results: Partial<Record<EngineName, readonly Facts[]>>;
  /** Why the Kyverno legs do not apply to this fixture, when they do not. */
  readonly kyvernoNotApplicable?: string;
  /** Why conftest does not apply to this fixture, when it does not. */
  readonly conftestNotApplicable?: string;
}

/**
 * Each fact's container name, from the object at the fact's list and index: the CEL legs'
 * messages carry `@<list>[<index>]`, not the name.
 */
export function withContainerNames(facts: readonly (Facts & { index?: number })[], object: Record<string, unknown>): Facts[] {
  const spec = getPath(object, [...templatePath(object['kind']), 'spec']) as Record<string, unknown> | undefined;
  return facts.map(({ index, ...f }) => {
    if (f.list === undefined || index === undefined) return f;
    const ctr = (spec?.[f.list] as Record<string, unknown>[] | undefined)?.[index];
    const name = ctr && typeof ctr === 'object' ? ctr['name'] : undefined;
    return { ...f, container: typeof name === 'string' ? name : '' };
  });
}

/** Changes to the generated artefacts before they are run (to prove each leg catches a bug). */
export interface Mutation {
  readonly rego?: (text: string) => string;
  readonly kyverno?: (text: string) => string;
  /** Applied to each ValidatingPolicy's YAML. */
  readonly vpol?: (text: string) => string;
  /** Applied to each ValidatingAdmissionPolicy's YAML. */
  readonly vap?: (text: string) => string;
  /** Applied to the Gatekeeper ConstraintTemplate's YAML (both of its blocks). */
  readonly gatekeeper?: (text: string) => string;
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
  const rows = fixtures.map((fixture) => ({
    fixture,
    results: {} as Partial<Record<EngineName, readonly Facts[]>>,
    kyvernoNotApplicable: undefined as string | undefined,
    conftestNotApplicable: undefined as string | undefined,
  }));

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

  if (legs.includes('conftest')) {
    const work = mkdtempSync(join(tmpdir(), 'eci-rego-'));
    try {
      const rego = join(work, 'policy.rego');
      writeFileSync(rego, regoOf(c, mutation));
      const groups = new Map<string, { params: unknown; rows: number[] }>();
      fixtures.forEach((f, i) => {
        // conftest reads a top-level JSON array as one document per element.
        if (Array.isArray(f.input)) {
          rows[i]!.conftestNotApplicable = 'a top-level array: conftest reads each element as its own document';
          return;
        }
        const key = JSON.stringify(params[i]);
        if (!groups.has(key)) groups.set(key, { params: params[i], rows: [] });
        groups.get(key)!.rows.push(i);
      });
      for (const g of groups.values()) {
        const results = await conftestBatch(rego, rs.name, g.params, g.rows.map((i) => fixtures[i]!.input));
        results.forEach((facts, k) => (rows[g.rows[k]!]!.results['conftest'] = facts));
      }
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  const admission = legs.filter((l) => ADMISSION_LEGS.includes(l));
  if (admission.length) {
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
    type Group = { leg: EngineName; params: ParamValues; members: { row: number; object: Record<string, unknown> }[] };
    const apply = (g: Group): Promise<(Facts & { index?: number })[][]> => {
      const cases = g.members.map((m) => ({ object: m.object }));
      if (g.leg === 'gator-cel' || g.leg === 'gator-rego') {
        const out = lowerGatekeeper(rs, g.params);
        const rego = render('rego/policy.rego', { ...lowerRego(rs), gatekeeper: out.rego }, header);
        const template = (mutation.gatekeeper ?? ((t) => t))(render('gatekeeper/template.yaml', { ...out.template, rego }, header));
        const texts = [template, ...out.constraints.map((k) => render('gatekeeper/constraint.yaml', k, header))];
        return gatorBatch(texts, cases, g.leg === 'gator-rego', GATEKEEPER_SEPARATOR);
      }
      if (g.leg === 'vap') {
        const out = lowerVap(rs, g.params);
        const actions = new Map(out.policies.map((p) => [p.name, p.action]));
        const texts = out.policies.flatMap((p) => [(mutation.vap ?? ((t) => t))(render('vap/policy.yaml', p, header)), render('vap/binding.yaml', p, header)]);
        const params = out.params ? [render('vap/params.yaml', out.params, header)] : [];
        return kyvernoVpolBatch(texts, cases, (name) => actions.get(name), VAP_SEPARATOR, params);
      }
      if (g.leg === 'kyverno-vpol') {
        const policies = lowerVpol(rs, g.params).policies;
        const actions = new Map(policies.map((p) => [p.name, p.action]));
        const texts = policies.map((p) => (mutation.vpol ?? ((t) => t))(render('kyverno-vpol/validatingpolicy.yaml', p, header)));
        return kyvernoVpolBatch(texts, cases, (name) => actions.get(name), VPOL_SEPARATOR);
      }
      const lowered = lowerKyverno(rs, g.params);
      const rules = new Map(
        lowered.rules.map((r) => [r.name, { ruleId: r.ruleId, separator: MESSAGE_SEPARATOR, action: r.failureAction === 'Enforce' ? ('deny' as const) : ('warn' as const) }]),
      );
      const policy = (mutation.kyverno ?? ((t) => t))(render('kyverno/clusterpolicy.yaml', lowered, header));
      return kyvernoApplyBatch(policy, cases, (name) => rules.get(name));
    };
    // Two kyverno processes at a time (machines here have 2 cores). The CLI is single-threaded,
    // so a large group is cut into chunks that both can work on (a few seconds of start-up each).
    const total = [...groups.values()].reduce((n, g) => n + g.members.length, 0);
    const chunk = Math.max(20, Math.ceil(total / 4));
    const queue: Group[] = admission.flatMap((leg) =>
      [...groups.values()].flatMap((g) =>
        Array.from({ length: Math.ceil(g.members.length / chunk) }, (_, k) => ({ leg, params: g.params, members: g.members.slice(k * chunk, (k + 1) * chunk) })),
      ),
    );
    const worker = async () => {
      for (let g = queue.shift(); g; g = queue.shift()) {
        const results = await apply(g);
        results.forEach((facts, k) => {
          const { row, object } = g.members[k]!;
          rows[row]!.results[g.leg] = withContainerNames(facts, object);
        });
      }
    };
    await Promise.all([worker(), worker()]);
  }
  return rows;
}
