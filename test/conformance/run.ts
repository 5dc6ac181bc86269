// The conformance run: each applicable peer case's object evaluated with our compiled rule set
// on OPA WASM (every case), native `opa eval` (every case, one process per rule set) and the
// admission engines (a budget, or every case): the Kyverno CLI on the ClusterPolicy, the
// ValidatingPolicies and the ValidatingAdmissionPolicies, and gator on the Gatekeeper
// template's CEL and Rego blocks, as the matrix runs them. Each verdict is compared with the peer's.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileOrThrow, type CompiledRuleSet } from '../../src/emit/build.ts';
import { PROJECT_ROOT } from '../../src/emit/engines.ts';
import { loadWasmPolicy } from '../../src/eval/wasm.ts';
import type { Fixture } from '../../src/fixtures/corpus.ts';
import { wasmOf } from '../harness/compiled.ts';
import { opaEvalBatch } from '../harness/engines.ts';
import { ADMISSION_LEGS, runMatrix, type EngineName as Leg } from '../harness/matrix.ts';
import type { Facts } from '../harness/facts.ts';
import { decide, loadMapping, type Decision, type Mapping, type Target } from './mapping.ts';
import { containerOf, loadResource, loadSource, objectOf, peerFixturesRoot, SOURCES, type PeerCase, type SourceName, type Verdict } from './sources.ts';

export type EngineName = Exclude<Leg, 'conftest'>;
export const ENGINES: readonly EngineName[] = ['opa-wasm', 'opa', ...(ADMISSION_LEGS as readonly EngineName[])];

/**
 * Which applicable cases the admission engines judge (the Kyverno CLI costs about 1-2 s per
 * object here): `budget` (what `npm test` runs) one case per peer rule (mapping entry), PSA
 * check and expected verdict, so every peer rule's pass and fail and every PSA check's pass
 * and fail reach each of them once; `all` every case; `none` no case.
 */
export type KyvernoMode = 'none' | 'budget' | 'all';
export const KYVERNO_BUDGET = 'one case per peer rule (mapping entry), PSA check and expected verdict';

function budgetSample(items: readonly Applicable[], decisions: ReadonlyMap<string, Decision>): Applicable[] {
  const seen = new Set<string>();
  return items.filter((it) => {
    const key = [it.case.source, decisions.get(it.case.id)!.entry.at, String(it.case.entry['check'] ?? ''), it.case.expected].join('|');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** A violation as the verdict reads it (Kyverno's carry a list index, not a container name). */
type Finding = Facts & { readonly index?: number };

export interface CaseResult {
  readonly case: PeerCase;
  readonly target: Target;
  readonly verdicts: Partial<Record<EngineName, Verdict>>;
  /** The deny violations that make our verdict (mapped rules, path filter and exclusions applied). */
  readonly findings: Partial<Record<EngineName, readonly Facts[]>>;
}

export interface NotApplicable {
  readonly case: PeerCase;
  readonly decision: Extract<Decision, { applicable: false }>;
  /**
   * For a documented peer deviation (the mapping names our fixture): our verdict under the
   * entry's mapping (OPA WASM), which must differ from the peer's for the deviation to be real.
   */
  readonly ours?: { readonly verdict: Verdict; readonly findings: readonly Facts[] };
}

export interface SourceReport {
  readonly source: SourceName;
  readonly total: number;
  readonly applicable: readonly CaseResult[];
  readonly agreed: number;
  readonly disagreed: readonly CaseResult[];
  readonly notApplicable: readonly NotApplicable[];
}

export interface ConformanceReport {
  readonly pssVersion: string;
  readonly sources: readonly SourceReport[];
  readonly kyverno: { readonly mode: KyvernoMode; readonly cases: number; readonly objects: number; readonly ms: number };
  /** Our fixtures the mapping names for peer deviations, not (yet) in test/fixtures. */
  readonly missingFixtures: readonly string[];
  readonly ms: number;
}

/** Kyverno's image wildcards (`*` any run, `?` one character). */
const wildcard = (glob: string) => new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);

/** The deny violations among the target's rules, with its path filter and exclusions applied. */
export function relevantFindings(target: Target, object: Record<string, unknown>, violations: readonly Finding[]): Facts[] {
  return violations
    .filter((v) => v.action === 'deny')
    .filter((v) => target.rules === 'all' || target.rules.includes(v.rule))
    .filter((v) => !target.paths || target.paths.test(v.path ?? ''))
    .filter(
      (v) =>
        !target.exclude.some((x) => {
          if (!x.rules.includes(v.rule)) return false;
          // Kyverno: an exclusion without images is for pod-level fields, with images for the
          // containers running one of them.
          if (!x.images) return v.list === undefined;
          if (v.list === undefined) return false;
          const image = containerOf(object, v.list, v.index !== undefined ? { index: v.index } : { name: v.container ?? '' })?.['image'];
          return typeof image === 'string' && x.images.some((g) => wildcard(g).test(image));
        }),
    )
    .map(({ index: _index, ...f }) => f);
}

interface Applicable {
  readonly case: PeerCase;
  readonly target: Target;
  readonly object: Record<string, unknown>;
}

async function compileRuleSets(mapping: Mapping, names: ReadonlySet<string>): Promise<Map<string, CompiledRuleSet>> {
  const out = new Map<string, CompiledRuleSet>();
  for (const name of [...names].sort()) {
    const ref = mapping.ruleSets[name]!;
    const specFile = join(PROJECT_ROOT, ref.spec);
    if (!existsSync(specFile)) throw new Error(`rule set ${name}: ${ref.spec} does not exist (mapping.yaml rule_sets)`);
    const c = await compileOrThrow({ specFile, paramsFile: join(PROJECT_ROOT, ref.params) });
    if (c.skipped.length) throw new Error(`rule set ${name}: the WASM bundle is needed, but: ${c.skipped.join('; ')}`);
    if (c.ruleSet.name !== name) throw new Error(`rule set ${name}: ${ref.spec} compiles to rule set ${c.ruleSet.name}`);
    out.set(name, c);
  }
  return out;
}

function checkRuleIds(items: readonly Applicable[], compiled: ReadonlyMap<string, CompiledRuleSet>): void {
  const problems = new Set<string>();
  for (const { target } of items) {
    const rs = compiled.get(target.ruleSet)!.ruleSet;
    const ids = new Set([rs.inputRule.id, ...rs.rules.map((r) => r.id)]);
    const named = [...(target.rules === 'all' ? [] : target.rules), ...target.exclude.flatMap((x) => x.rules)];
    for (const id of named) if (!ids.has(id)) problems.add(`mapping.yaml names ${id}, which rule set ${rs.name} does not have`);
  }
  if (problems.size) throw new Error([...problems].join('\n'));
}

/**
 * Distinct objects per rule set, so each engine judges each object once. The name does not
 * count (no rule reads it; the Kyverno leg renames every object anyway).
 */
function distinct(items: readonly Applicable[]): Map<string, { ruleSet: string; object: Record<string, unknown>; members: number[] }> {
  const groups = new Map<string, { ruleSet: string; object: Record<string, unknown>; members: number[] }>();
  items.forEach((it, i) => {
    const { name: _name, ...metadata } = (it.object['metadata'] as Record<string, unknown> | undefined) ?? {};
    const key = `${it.target.ruleSet}\n${JSON.stringify({ ...it.object, metadata })}`;
    if (!groups.has(key)) groups.set(key, { ruleSet: it.target.ruleSet, object: it.object, members: [] });
    groups.get(key)!.members.push(i);
  });
  return groups;
}

async function opaLeg(items: readonly Applicable[], compiled: ReadonlyMap<string, CompiledRuleSet>, out: Finding[][]): Promise<void> {
  const groups = [...distinct(items).values()];
  const work = mkdtempSync(join(tmpdir(), 'eci-conformance-opa-'));
  try {
    for (const [name, c] of compiled) {
      const mine = groups.filter((g) => g.ruleSet === name);
      if (!mine.length) continue;
      const rego = join(work, `${name}.rego`);
      writeFileSync(rego, c.files.get('rego/policy.rego') as string);
      const results = await opaEvalBatch([rego], name, mine.map((g) => ({ input: g.object, params: c.params })));
      results.forEach((r, k) => mine[k]!.members.forEach((i) => (out[i] = r)));
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The admission legs (Kyverno CLI ×3, gator ×2) through the matrix's own runner: distinct
 * objects per rule set, with the rule set's parameters; `out[leg][i]` for each case judged.
 */
async function admissionLegs(
  items: readonly Applicable[],
  compiled: ReadonlyMap<string, CompiledRuleSet>,
  out: Partial<Record<EngineName, Finding[][]>>,
): Promise<number> {
  const groups = [...distinct(items).values()];
  for (const [name, c] of compiled) {
    const mine = groups.filter((g) => g.ruleSet === name);
    if (!mine.length) continue;
    const fixtures = mine.map((g, k): Fixture => ({ file: '(peer)', name: `peer object ${k}`, description: 'peer case', input: g.object, expect: [] }));
    const rows = await runMatrix(c, fixtures, ADMISSION_LEGS);
    rows.forEach((row, k) => {
      for (const leg of ADMISSION_LEGS as readonly EngineName[]) {
        const facts = row.results[leg];
        if (facts) mine[k]!.members.forEach((i) => ((out[leg] ??= [])[i] = [...facts]));
      }
    });
  }
  return groups.length;
}

export interface RunOptions {
  readonly kyverno?: KyvernoMode;
  readonly sources?: readonly SourceName[];
  readonly mappingFile?: string;
}

export async function runConformance(opts: RunOptions = {}): Promise<ConformanceReport> {
  const started = Date.now();
  const root = peerFixturesRoot();
  const mapping = loadMapping(opts.mappingFile);
  const sources = opts.sources ?? SOURCES;
  const cases = SOURCES.flatMap((s) => loadSource(s, root));
  // Every source is checked against the mapping, also when only some are run.
  const { decisions, problems } = decide(mapping, cases);
  if (problems.length) throw new Error(`mapping.yaml does not account for every peer case:\n  ${problems.join('\n  ')}`);

  const selected = cases.filter((c) => sources.includes(c.source));
  const items: Applicable[] = [];
  const notApplicable: NotApplicable[] = [];
  for (const c of selected) {
    const d = decisions.get(c.id)!;
    if (d.applicable) items.push({ case: c, target: d.target, object: objectOf(loadResource(c, root)) });
    else notApplicable.push({ case: c, decision: d });
  }

  // Documented deviations are judged too (OPA WASM), to show that our verdict differs.
  const deviations = notApplicable.flatMap((n, k) =>
    n.decision.ourFixture && n.decision.entry.target ? [{ k, case: n.case, target: n.decision.entry.target, object: objectOf(loadResource(n.case, root)) }] : [],
  );
  const compiled = await compileRuleSets(mapping, new Set([...items, ...deviations].map((it) => it.target.ruleSet)));
  checkRuleIds([...items, ...deviations], compiled);

  const raw: Partial<Record<EngineName, Finding[][]>> = { 'opa-wasm': [], opa: [] };
  for (const [name, c] of compiled) {
    const policy = await loadWasmPolicy(wasmOf(c), name, c.params);
    items.forEach((it, i) => {
      if (it.target.ruleSet === name) raw['opa-wasm']![i] = policy.violations(it.object);
    });
    for (const d of deviations) {
      if (d.target.ruleSet !== name) continue;
      const findings = relevantFindings(d.target, d.object, policy.violations(d.object));
      notApplicable[d.k] = { ...notApplicable[d.k]!, ours: { verdict: findings.length ? 'fail' : 'pass', findings } };
    }
  }
  await opaLeg(items, compiled, raw.opa!);

  const mode = opts.kyverno ?? 'budget';
  const forKyverno = mode === 'all' ? items : mode === 'budget' ? budgetSample(items, decisions) : [];
  const kyStarted = Date.now();
  const kyRaw: Partial<Record<EngineName, Finding[][]>> = {};
  const objects = forKyverno.length ? await admissionLegs(forKyverno, compiled, kyRaw) : 0;
  const kyIndex = new Map(forKyverno.map((it, k) => [it, k]));
  const kyMs = Date.now() - kyStarted;

  const results: CaseResult[] = items.map((it, i) => {
    const verdicts: Partial<Record<EngineName, Verdict>> = {};
    const findings: Partial<Record<EngineName, readonly Facts[]>> = {};
    for (const engine of ENGINES) {
      const k = kyIndex.get(it);
      const violations = engine === 'opa-wasm' || engine === 'opa' ? raw[engine]![i] : k !== undefined ? kyRaw[engine]?.[k] : undefined;
      if (!violations) continue;
      const found = relevantFindings(it.target, it.object, violations);
      findings[engine] = found;
      verdicts[engine] = found.length ? 'fail' : 'pass';
    }
    return { case: it.case, target: it.target, verdicts, findings };
  });

  const reports = sources.map((source): SourceReport => {
    const applicable = results.filter((r) => r.case.source === source);
    const disagreed = applicable.filter((r) => Object.values(r.verdicts).some((v) => v !== r.case.expected));
    return {
      source,
      total: selected.filter((c) => c.source === source).length,
      applicable,
      agreed: applicable.length - disagreed.length,
      disagreed,
      notApplicable: notApplicable.filter((n) => n.case.source === source),
    };
  });

  const missingFixtures = [...new Set(notApplicable.flatMap((n) => (n.decision.ourFixture ? [n.decision.ourFixture] : [])))].filter(
    (f) => !existsSync(join(PROJECT_ROOT, f)),
  );
  return {
    pssVersion: mapping.pssVersion,
    sources: reports,
    kyverno: { mode, cases: forKyverno.length, objects, ms: kyMs },
    missingFixtures,
    ms: Date.now() - started,
  };
}
