// The rule sets compiled fresh from spec/ (in memory, with the pinned opa), shared by the tests.

import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { compileOrThrow, discoverRuleSets, type CompiledRuleSet } from '../../src/emit/build.ts';
import { PROJECT_ROOT } from '../../src/emit/engines.ts';
import { fixtureParams as paramsOf, type Fixture } from '../../src/fixtures/corpus.ts';
import type { ParamValues } from '../../src/ir/types.ts';

const cache = new Map<string, Promise<CompiledRuleSet>>();

/**
 * The rule sets with fixtures (test/fixtures/<rule-set>/), or those RULE_SETS=<a,b> names. A
 * rule set's name is its spec file's with `-` as `_` (spec/pss-baseline.ts is pss_baseline).
 */
export function ruleSetsWithFixtures(): string[] {
  const root = join(PROJECT_ROOT, 'test', 'fixtures');
  const all = readdirSync(root)
    .filter((d) => statSync(join(root, d)).isDirectory())
    .sort();
  const only = process.env['RULE_SETS']?.split(',').filter(Boolean);
  return only ? all.filter((d) => only.includes(d)) : all;
}

export function compiled(ruleSet: string): Promise<CompiledRuleSet> {
  let p = cache.get(ruleSet);
  if (!p) {
    const source = discoverRuleSets(join(PROJECT_ROOT, 'spec')).find((s) => basename(s.specFile, '.ts').replace(/-/g, '_') === ruleSet);
    if (!source) throw new Error(`no spec for rule set ${ruleSet} in spec/`);
    p = compileOrThrow(source).then((c) => {
      if (c.skipped.length) throw new Error(`the harness needs the WASM bundle, but: ${c.skipped.join('; ')}`);
      return c;
    });
    cache.set(ruleSet, p);
  }
  return p;
}

/** The fixture's parameters: its keys replace the rule set's defaults; validated like a file. */
export function fixtureParams(c: CompiledRuleSet, fixture: Fixture): ParamValues {
  return paramsOf(c.ruleSet, c.params, fixture);
}

export function wasmOf(c: CompiledRuleSet): Uint8Array {
  const wasm = c.files.get('bundle/policy.wasm');
  if (!(wasm instanceof Uint8Array)) throw new Error('bundle/policy.wasm missing from the compiled rule set');
  return wasm;
}

