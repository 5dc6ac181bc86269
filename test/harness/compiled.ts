// The rule sets compiled fresh from spec/ (in memory, with the pinned opa), shared by the tests.

import { join } from 'node:path';
import { compileOrThrow, type CompiledRuleSet } from '../../src/emit/build.ts';
import { PROJECT_ROOT } from '../../src/emit/engines.ts';
import { fixtureParams as paramsOf, type Fixture } from '../../src/fixtures/corpus.ts';
import type { ParamValues } from '../../src/ir/types.ts';

const cache = new Map<string, Promise<CompiledRuleSet>>();

export function compiled(ruleSet: string): Promise<CompiledRuleSet> {
  let p = cache.get(ruleSet);
  if (!p) {
    p = compileOrThrow({
      specFile: join(PROJECT_ROOT, 'spec', `${ruleSet}.ts`),
      paramsFile: join(PROJECT_ROOT, 'spec', `${ruleSet}.params.yaml`),
    }).then((c) => {
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

