// Differential fuzzing: generated cases through every engine in batches; the normalised
// violation facts must be identical. Kyverno (about half a second per resource: its CLI compiles
// every rule's CEL for every resource) judges a deterministic sample unless told otherwise.
// A disagreeing case is replayed by fast-check from its seed and index and shrunk against the
// engines that disagreed, then written out as a finding to triage.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import fc from 'fast-check';
import { Document } from 'yaml';
import type { CompiledRuleSet } from '../../src/emit/build.ts';
import type { ExpectedViolation, Fixture } from '../../src/fixtures/corpus.ts';
import { compareFacts, OMITTED_RULE, type Facts } from '../harness/facts.ts';
import { compareOptions, runMatrix, wasmLeg, type EngineName, type Mutation } from '../harness/matrix.ts';
import { fuzzCase, type FuzzCase } from './arbitraries.ts';
import { pssFuzzCase } from './arbitraries-pss.ts';

/** What a campaign generates for a rule set, and the parameters the cases are judged with. */
export interface FuzzTarget {
  readonly generator: fc.Arbitrary<FuzzCase>;
  /** Overrides of the rule set's default parameters. */
  readonly params: Record<string, unknown>;
  /** Where a triaged finding goes, and the text its expectations come from. */
  readonly fixtures: string;
  readonly catalogue: string;
}

const PSS_PAGE = 'the Pod Security Standards page (v1.37) and PSA\'s checks';

export const FUZZ_TARGETS: Readonly<Record<string, FuzzTarget>> = {
  // Parameters that exercise every approval path (the defaults approve nothing).
  eci: {
    generator: fuzzCase,
    params: { approvedHostSysctls: ['kernel.core_pattern', 'net.core.somaxconn'], privilegedApproved: ['team-b'], sysRawioApproved: ['team-a'] },
    fixtures: 'test/fixtures/eci/',
    catalogue: 'ECI-RULES.md',
  },
  pss_baseline: { generator: pssFuzzCase, params: {}, fixtures: 'test/fixtures/pss_baseline/', catalogue: PSS_PAGE },
  pss_restricted: { generator: pssFuzzCase, params: {}, fixtures: 'test/fixtures/pss_restricted/', catalogue: PSS_PAGE },
};

export function fuzzTarget(ruleSet: string): FuzzTarget {
  const target = FUZZ_TARGETS[ruleSet];
  if (!target) throw new Error(`no fuzz generator for rule set ${ruleSet} (known: ${Object.keys(FUZZ_TARGETS).join(', ')})`);
  return target;
}

/** One engine judging the generated cases. */
export interface FuzzLeg {
  /** Its name in reports and findings (unique). */
  readonly name: string;
  readonly engine: EngineName;
  /** A deliberately broken copy of the generated artefacts (to test the fuzzer itself). */
  readonly mutation?: Mutation;
  /** Judges every n-th case only (default 1: all). */
  readonly every?: number;
}

/**
 * OPA WASM (the reference), native opa, conftest, the Kyverno CLI (ClusterPolicy,
 * ValidatingPolicy, ValidatingAdmissionPolicy) on every n-th case, and gator (the Gatekeeper
 * template's CEL and Rego blocks, one quick process per batch) on four times as many.
 */
export const defaultLegs = (kyvernoEvery: number): FuzzLeg[] => [
  { name: 'opa-wasm', engine: 'opa-wasm' },
  { name: 'opa', engine: 'opa' },
  { name: 'conftest', engine: 'conftest' },
  { name: 'kyverno', engine: 'kyverno', every: kyvernoEvery },
  { name: 'kyverno-vpol', engine: 'kyverno-vpol', every: kyvernoEvery },
  { name: 'vap', engine: 'vap', every: kyvernoEvery },
  { name: 'gator-cel', engine: 'gator-cel', every: Math.max(1, Math.floor(kyvernoEvery / 4)) },
  { name: 'gator-rego', engine: 'gator-rego', every: Math.max(1, Math.floor(kyvernoEvery / 4)) },
];

/** Shrinking effort per fuzz() call. */
export interface ShrinkBudget {
  /** Candidates evaluated per disagreement at most (0: written unshrunk). */
  readonly evaluations: number;
  /** Wall time per disagreement at most. */
  readonly ms: number;
  /** Disagreements shrunk at most; later ones are written unshrunk. */
  readonly cases: number;
}

export const DEFAULT_SHRINK: ShrinkBudget = { evaluations: 500, ms: 60_000, cases: 10 };

export interface FuzzOptions {
  readonly cases: number;
  readonly seed: number;
  /** With the default legs: every n-th case also goes through Kyverno (1: all; default 50). */
  readonly kyvernoEvery?: number;
  /** The engines compared; the first judges every case and is the reference. Default: defaultLegs(kyvernoEvery). */
  readonly legs?: readonly FuzzLeg[];
  /** Where a disagreeing case is written as a finding (a fixture skeleton). */
  readonly findingsDir: string;
  readonly shrink?: ShrinkBudget;
  /** How to rerun the campaign, written into findings (default: the npm run fuzz command). */
  readonly source?: string;
}

export interface ShrinkResult {
  /** Successful shrink steps: each a smaller case on which the same legs still disagree. */
  readonly steps: number;
  /** Candidates evaluated through the engines (the replay of the original not counted). */
  readonly evaluations: number;
  readonly ms: number;
  /** Why shrinking stopped before fast-check ran out of candidates, if it did. */
  readonly stopped?: string;
  /** Candidates an engine raised an error on (counted as not reproducing). */
  readonly errors: number;
  /** fast-check's path to the shrunk case: fc.sample(generator, {seed, path, numRuns: 1}). */
  readonly path: string;
}

export interface Disagreement {
  readonly index: number;
  /** The generated case as sampled. */
  readonly original: unknown;
  /** The shrunk case (the original when it was not shrunk). */
  readonly input: unknown;
  /** Each leg's normalised facts for `input`. */
  readonly facts: Record<string, readonly string[]>;
  /** The legs whose facts for `input` differ from the reference's. */
  readonly disagree: readonly string[];
  readonly shrink: ShrinkResult;
  readonly file: string;
}

export interface FuzzReport {
  readonly cases: number;
  /** How many cases each rule and action was reported for (the reference leg): the campaign's reach. */
  readonly reach: Record<string, number>;
  /** Cases judged by each leg. */
  readonly evaluations: Record<string, number>;
  readonly disagreements: readonly Disagreement[];
}

const key = (f: Facts, withValue: boolean) =>
  JSON.stringify([f.rule, f.action, f.list ?? null, f.container ?? null, f.path ?? null, ...(withValue ? [f.value ?? null] : [])]);

const keys = (facts: readonly Facts[], withValue: boolean) => [...new Set(facts.map((f) => key(f, withValue)))].sort();

/** A normalised fact back in the shape of a fixture's `expect` entry. */
function expectation(k: string): ExpectedViolation {
  const [rule, action, list, container, path, ...value] = JSON.parse(k) as [string, 'deny' | 'warn', ...unknown[]];
  const optional = Object.entries({ list, container, path, value: value.length ? value[0] : null }).filter(([, v]) => v !== null);
  return { rule, action, ...Object.fromEntries(optional) };
}

/** The CEL legs' messages carry no values and conftest's cut them at 200 characters: values are compared between the others. */
const withValues = (leg: FuzzLeg) => !compareOptions(leg.engine).ignore?.includes('value');

type Judged = Map<string, readonly Facts[]>;

/** Each leg's normalised facts, for the legs that judged the case. */
const normalised = (legs: readonly FuzzLeg[], judged: Judged) =>
  Object.fromEntries(legs.filter((l) => judged.has(l.name)).map((l) => [l.name, keys(judged.get(l.name)!, withValues(l))]));

/** The legs (after the reference) whose facts differ from the reference's. */
function disagreeing(legs: readonly FuzzLeg[], judged: Judged): string[] {
  const [reference, ...others] = legs;
  const ref = judged.get(reference!.name)!;
  return others
    .filter((leg) => {
      const facts = judged.get(leg.name);
      if (facts === undefined) return false;
      const v = withValues(reference!) && withValues(leg);
      // A leg that counted the facts it could not list (a VAP's message): compareFacts checks
      // the listed ones against the reference's and the count against the rest.
      if (facts.some((f) => f.rule === OMITTED_RULE)) {
        const d = compareFacts(keys(ref, v).map(expectation), facts, v ? {} : { ignore: ['value'] });
        return d.missing.length + d.unexpected.length > 0;
      }
      return JSON.stringify(keys(ref, v)) !== JSON.stringify(keys(facts, v));
    })
    .map((l) => l.name);
}

type Judge = (fixtures: readonly Fixture[]) => Promise<(readonly Facts[] | undefined)[]>;

async function judgeOf(c: CompiledRuleSet, leg: FuzzLeg): Promise<Judge> {
  if (leg.engine === 'opa-wasm') {
    const run = await wasmLeg(c, leg.mutation);
    return async (fixtures) => run(fixtures);
  }
  return async (fixtures) => (await runMatrix(c, fixtures, [leg.engine], leg.mutation)).map((r) => r.results[leg.engine]);
}

export async function fuzz(c: CompiledRuleSet, opts: FuzzOptions): Promise<FuzzReport> {
  const legs = opts.legs ?? defaultLegs(opts.kyvernoEvery ?? 50);
  if ((legs[0]?.every ?? 1) !== 1) throw new Error('the reference leg (the first) must judge every case');
  if (new Set(legs.map((l) => l.name)).size !== legs.length) throw new Error('fuzz legs need unique names');
  const budget = opts.shrink ?? DEFAULT_SHRINK;
  const target = fuzzTarget(c.ruleSet.name);
  const judges = new Map<string, Judge>();
  for (const leg of legs) judges.set(leg.name, await judgeOf(c, leg));

  const fixtureOf = (i: number, input: unknown): Fixture => ({
    file: '(fuzz)',
    name: `fuzz seed ${opts.seed} case ${i}`,
    description: 'generated',
    ...(Object.keys(target.params).length ? { params: target.params } : {}),
    input,
    expect: [],
  });
  const inputs = fc.sample(target.generator, { seed: opts.seed, numRuns: opts.cases });
  const fixtures = inputs.map((x, i) => fixtureOf(i, x.input));
  const judged: Judged[] = fixtures.map(() => new Map());
  const evaluations: Record<string, number> = {};
  for (const leg of legs) {
    const picked = fixtures.map((_, i) => i).filter((i) => i % (leg.every ?? 1) === 0);
    const results = await judges.get(leg.name)!(picked.map((i) => fixtures[i]!));
    picked.forEach((i, k) => results[k] && judged[i]!.set(leg.name, results[k]));
    evaluations[leg.name] = picked.length;
  }

  /** The case through the given legs, one at a time. */
  const judgeOne = async (i: number, input: unknown, through: readonly FuzzLeg[]): Promise<Judged> => {
    const out: Judged = new Map();
    for (const leg of through) {
      const [facts] = await judges.get(leg.name)!([fixtureOf(i, input)]);
      if (facts) out.set(leg.name, facts);
    }
    return out;
  };

  /**
   * fast-check replays case i from the seed (path `i`) and shrinks it: a candidate fails the
   * property when every leg that disagreed on the original still disagrees with the reference.
   */
  const shrinkCase = async (i: number, disagree: readonly string[]): Promise<{ input: unknown } & ShrinkResult> => {
    const started = Date.now();
    const through = legs.filter((l, k) => k === 0 || disagree.includes(l.name));
    let replayed: FuzzCase | undefined;
    let candidates = 0;
    let errors = 0;
    let stopped: string | undefined;
    const property = fc.asyncProperty(target.generator, async (x) => {
      if (replayed === undefined) {
        replayed = x;
        if (JSON.stringify(x.input) !== JSON.stringify(fixtures[i]!.input)) stopped = 'a replay that is not the sampled case';
      } else if (candidates >= budget.evaluations) stopped = `the budget of ${budget.evaluations} evaluations`;
      else if (Date.now() - started > budget.ms) stopped = `the budget of ${budget.ms} ms`;
      else candidates++;
      if (stopped) throw new fc.PreconditionFailure(true); // ends the run; the last failure stands
      try {
        const now = disagreeing(through, await judgeOne(i, x.input, through));
        return !disagree.every((name) => now.includes(name));
      } catch {
        errors++;
        return true;
      }
    });
    const run = await fc.check(property, { seed: opts.seed, path: String(i), numRuns: 1 });
    if (JSON.stringify(replayed?.input) !== JSON.stringify(fixtures[i]!.input)) {
      throw new Error(`fast-check's replay of seed ${opts.seed} case ${i} (path "${i}") is not the sampled case`);
    }
    const common = { evaluations: candidates, ms: Date.now() - started, errors, ...(stopped ? { stopped } : {}) };
    if (!run.failed || run.counterexample === null) {
      return { input: fixtures[i]!.input, steps: 0, path: String(i), ...common, stopped: 'the replayed case did not disagree again' };
    }
    return { input: run.counterexample[0].input, steps: run.numShrinks, path: run.counterexamplePath ?? String(i), ...common };
  };

  const disagreements: Disagreement[] = [];
  for (const [i, fixture] of fixtures.entries()) {
    const first = disagreeing(legs, judged[i]!);
    if (first.length === 0) continue;
    const shrunk =
      budget.evaluations > 0 && disagreements.length < budget.cases
        ? await shrinkCase(i, first)
        : {
            input: fixture.input,
            steps: 0,
            evaluations: 0,
            ms: 0,
            errors: 0,
            path: String(i),
            stopped: budget.evaluations > 0 ? `the limit of ${budget.cases} shrunk cases per batch` : 'shrinking is off',
          };
    const { input, ...shrink } = shrunk;
    // The shrunk case through every leg that judged the original (Kyverno only when sampled).
    const final = input === fixture.input ? judged[i]! : await judgeOne(i, input, legs.filter((l) => judged[i]!.has(l.name)));
    const facts = normalised(legs, final);
    const disagree = disagreeing(legs, final);
    const file = join(opts.findingsDir, `${c.ruleSet.name}-seed-${opts.seed}-case-${i}.yaml`);
    writeFinding(file, target, {
      seed: opts.seed,
      index: i,
      source: opts.source ?? `npm run fuzz -- --rule-set ${c.ruleSet.name} --seed ${opts.seed} --cases ${opts.cases} --kyverno-every ${opts.kyvernoEvery ?? 50}`,
      reference: legs[0]!.name,
      input,
      facts,
      disagree,
      shrink,
      original: { input: fixture.input, facts: normalised(legs, judged[i]!), disagree: first },
    });
    disagreements.push({ index: i, original: fixture.input, input, facts, disagree, shrink, file });
  }

  const reach: Record<string, number> = {};
  for (const j of judged) {
    const facts = j.get(legs[0]!.name)!;
    // Cases no rule objects to: the generator must reach the allowed side too.
    const seen = facts.length ? new Set(facts.map((f) => `${f.rule} ${f.action}`)) : ['(allowed)'];
    for (const k of seen) reach[k] = (reach[k] ?? 0) + 1;
  }
  return {
    cases: fixtures.length,
    reach: Object.fromEntries(Object.entries(reach).sort()),
    evaluations,
    disagreements,
  };
}

interface Finding {
  readonly seed: number;
  readonly index: number;
  readonly source: string;
  readonly reference: string;
  readonly input: unknown;
  readonly facts: Record<string, readonly string[]>;
  readonly disagree: readonly string[];
  readonly shrink: ShrinkResult;
  readonly original: { input: unknown; facts: Record<string, readonly string[]>; disagree: readonly string[] };
}

/**
 * A finding in the shape of test/fixtures/README.md, which the fixture loader refuses until it
 * is triaged: `expect` is null and `finding` is not a fixture key.
 */
function writeFinding(file: string, target: FuzzTarget, f: Finding): void {
  const facts = (by: Record<string, readonly string[]>) => Object.fromEntries(Object.entries(by).map(([leg, ks]) => [leg, ks.map(expectation)]));
  const shrunk = f.shrink.steps > 0 ? `shrunk in ${f.shrink.steps} steps` : 'not shrunk';
  const doc = new Document({
    description:
      `Differential fuzzing, seed ${f.seed}, case ${f.index} (${shrunk}): ` +
      (f.disagree.length ? `${f.disagree.join(', ')} ${f.disagree.length === 1 ? 'disagrees' : 'disagree'} with ${f.reference}.` : `the engines agree on it; see finding.original.`),
    source: f.source,
    ...(Object.keys(target.params).length ? { params: target.params } : {}),
    input: f.input,
    expect: null,
    finding: {
      seed: f.seed,
      case: f.index,
      path: f.shrink.path,
      shrink: { steps: f.shrink.steps, evaluations: f.shrink.evaluations, ms: f.shrink.ms, errors: f.shrink.errors, ...(f.shrink.stopped ? { stopped: f.shrink.stopped } : {}) },
      disagree: f.disagree,
      engines: facts(f.facts),
      original: { input: f.original.input, disagree: f.original.disagree, engines: facts(f.original.facts) },
    },
  }, { aliasDuplicateObjects: false });
  doc.commentBefore =
    ' FINDING TO TRIAGE, not a fixture: the engines disagree on this generated case.\n' +
    ` Write \`expect\` from ${target.catalogue} (never from an engine's output), delete \`finding\`,\n` +
    ` then move the file into ${target.fixtures}. \`input\` is the shrunk case; \`finding.original\`\n` +
    ' is the case as generated, and `finding.engines` each engine\'s facts for `input`.';
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, doc.toString());
}
