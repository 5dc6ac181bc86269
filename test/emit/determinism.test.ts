// The build is a function of its inputs: two compiles of spec/eci.ts give the same bytes for
// every file (the WASM bundle and its manifest included), and generated/eci is exactly what a
// fresh compile produces.

import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileRuleSet, readTree, type CompiledRuleSet } from '../../src/emit/build.ts';
import { PROJECT_ROOT } from '../../src/emit/engines.ts';

const source = { specFile: join(PROJECT_ROOT, 'spec', 'eci.ts'), paramsFile: join(PROJECT_ROOT, 'spec', 'eci.params.yaml') };
// Diagnostics and the generated header name the spec relative to the project root, as the CLI
// does when run there (npm run build-policies).
const opts = { cwd: PROJECT_ROOT };

async function compile(): Promise<CompiledRuleSet> {
  const r = await compileRuleSet(source, opts);
  if (!r.ok) throw new Error(r.errors.map((e) => `${e.code}: ${e.message}`).join('\n'));
  return r.value;
}

const bytes = (c: string | Uint8Array): Buffer => (typeof c === 'string' ? Buffer.from(c, 'utf8') : Buffer.from(c));

/** Every file that is only in `a`, only in `b`, or differs in any byte. */
function differences(
  a: ReadonlyMap<string, string | Uint8Array>,
  b: ReadonlyMap<string, string | Uint8Array>,
  names: readonly [string, string] = ['first', 'second'],
): string[] {
  return [...new Set([...a.keys(), ...b.keys()])].sort().flatMap((rel) => {
    const x = a.get(rel);
    const y = b.get(rel);
    if (y === undefined) return [`only in ${names[0]}: ${rel}`];
    if (x === undefined) return [`only in ${names[1]}: ${rel}`];
    return bytes(x).equals(bytes(y)) ? [] : [`differs: ${rel}`];
  });
}

const first = await compile();
const second = await compile();

// At least these: every target's main file and the unpacked bundle.
const EXPECTED_FILES = [
  'bundle/.manifest',
  'bundle/data.json',
  'bundle/eci/policy.rego',
  'bundle/policy.wasm',
  'kyverno/clusterpolicy.yaml',
  'rego/policy.rego',
];

test('the compile produced every target, the WASM bundle included', () => {
  assert.equal(first.skipped, []);
  for (const f of EXPECTED_FILES) assert.ok(first.files.has(f), `${f} in ${[...first.files.keys()].join(', ')}`);
  assert.ok((first.files.get('bundle/policy.wasm') as Uint8Array).length > 0);
});

test('two compiles of spec/eci.ts give byte-identical file maps', () => {
  assert.equal([...second.files.keys()].sort(), [...first.files.keys()].sort());
  assert.equal(differences(first.files, second.files), []);
});

test('the bundle manifest records a revision and the rule set, identically in both compiles', () => {
  const manifest = JSON.parse(bytes(first.files.get('bundle/.manifest')!).toString('utf8')) as {
    revision: string;
    roots: string[];
    metadata: Record<string, string>;
  };
  assert.match(manifest.revision, /^sha256:[0-9a-f]{64}$/);
  assert.equal(manifest.roots, ['eci']);
  assert.is(manifest.metadata['ruleSet'], 'eci');
  assert.ok(bytes(first.files.get('bundle/.manifest')!).equals(bytes(second.files.get('bundle/.manifest')!)));
});

test('generated/eci equals a fresh compile byte for byte', () => {
  const committed = readTree(join(PROJECT_ROOT, 'generated', 'eci'));
  assert.equal(differences(committed, first.files, ['generated/eci', 'the fresh compile']), [], 'generated/eci is stale: run npm run build-policies');
});

test.run();
