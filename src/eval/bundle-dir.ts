// A compiled bundle read from disk (generated/<rule-set>/bundle), for the CLI and the benchmarks.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadWasmPolicy, type WasmPolicy } from './wasm.ts';

/** Loads generated/<rule-set>/bundle (policy.wasm with its data.json parameters). */
export async function loadBundleDir(bundleDir: string, packageName: string): Promise<WasmPolicy> {
  const wasm = readFileSync(join(bundleDir, 'policy.wasm'));
  const data = JSON.parse(readFileSync(join(bundleDir, 'data.json'), 'utf8')) as Record<string, { params: unknown }>;
  return loadWasmPolicy(wasm, packageName, data[packageName]?.params);
}
