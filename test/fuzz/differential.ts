// Differential fuzzing: generated cases through every engine in batches; the normalised
// violation facts must be identical. Kyverno (about half a second per resource: its CLI compiles
// every rule's CEL for every resource) judges a deterministic sample unless told otherwise.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { stringify } from 'yaml';
import type { CompiledRuleSet } from '../../src/emit/build.ts';
import type { Fixture } from '../../src/fixtures/corpus.ts';
import type { Facts } from '../harness/facts.ts';
import { runMatrix, type EngineName } from '../harness/matrix.ts';
import { fuzzCase } from './arbitraries.ts';

/** Parameters that exercise every approval path (the defaults approve nothing). */
export const FUZZ_PARAMS = {
  approvedHostSysctls: ['kernel.core_pattern', 'net.core.somaxconn'],
  privilegedApproved: ['team-b'],
  sysRawioApproved: ['team-a'],
};

export interface FuzzOptions {
  readonly cases: number;
  readonly seed: number;
  /** Every n-th case also goes through Kyverno (1: all). */
  readonly kyvernoEvery: number;
  /** Where a disagreeing case is written as a fixture skeleton. */
  readonly findingsDir: string;
}

export interface Disagreement {
  readonly index: number;
  readonly input: unknown;
  readonly facts: Partial<Record<EngineName, readonly string[]>>;
  readonly file: string;
}

export interface FuzzReport {
  readonly cases: number;
  /** How many cases each rule and action was reported for (OPA WASM): the campaign's reach. */
  readonly reach: Record<string, number>;
  readonly evaluations: Record<EngineName, number>;
  readonly disagreements: readonly Disagreement[];
}

const key = (f: Facts, withValue: boolean) =>
  JSON.stringify([f.rule, f.action, f.list ?? null, f.container ?? null, f.path ?? null, ...(withValue ? [f.value ?? null] : [])]);

const keys = (facts: readonly Facts[], withValue: boolean) => [...new Set(facts.map((f) => key(f, withValue)))].sort();

export async function fuzz(c: CompiledRuleSet, opts: FuzzOptions): Promise<FuzzReport> {
  const inputs = fc.sample(fuzzCase, { seed: opts.seed, numRuns: opts.cases });
  const fixtures: Fixture[] = inputs.map((x, i) => ({
    file: '(fuzz)',
    name: `fuzz seed ${opts.seed} case ${i}`,
    description: 'generated',
    params: FUZZ_PARAMS,
    input: x.input,
    expect: [],
  }));
  const opaRows = await runMatrix(c, fixtures, ['opa-wasm', 'opa']);
  const sample = fixtures.map((f, i) => ({ f, i })).filter(({ i }) => i % opts.kyvernoEvery === 0);
  const kyvernoRows = await runMatrix(c, sample.map((s) => s.f), ['kyverno']);
  const kyverno = new Map(sample.map((s, k) => [s.i, kyvernoRows[k]!.results['kyverno']]));

  const disagreements: Disagreement[] = [];
  opaRows.forEach((row, i) => {
    const wasm = row.results['opa-wasm']!;
    const opa = row.results['opa']!;
    const k = kyverno.get(i);
    const agree =
      JSON.stringify(keys(wasm, true)) === JSON.stringify(keys(opa, true)) &&
      (!k || JSON.stringify(keys(wasm, false)) === JSON.stringify(keys(k, false)));
    if (agree) return;
    mkdirSync(opts.findingsDir, { recursive: true });
    const file = join(opts.findingsDir, `seed-${opts.seed}-case-${i}.yaml`);
    const facts = { 'opa-wasm': keys(wasm, true), opa: keys(opa, true), ...(k ? { kyverno: keys(k, false) } : {}) };
    writeFileSync(
      file,
      stringify({
        description: `Differential fuzzing, seed ${opts.seed}, case ${i}: the engines disagree. Write the expected violations from ECI-RULES.md, then move this file into test/fixtures/eci/.`,
        source: `npm run fuzz -- --seed ${opts.seed} --cases ${opts.cases}`,
        params: FUZZ_PARAMS,
        input: row.fixture.input,
        expect: [],
        engines: facts,
      }),
    );
    disagreements.push({ index: i, input: row.fixture.input, facts, file });
  });
  const reach: Record<string, number> = {};
  for (const row of opaRows) {
    for (const k of new Set(row.results['opa-wasm']!.map((f) => `${f.rule} ${f.action}`))) reach[k] = (reach[k] ?? 0) + 1;
  }
  return {
    cases: fixtures.length,
    reach: Object.fromEntries(Object.entries(reach).sort()),
    evaluations: { 'opa-wasm': fixtures.length, opa: fixtures.length, kyverno: sample.length },
    disagreements,
  };
}
