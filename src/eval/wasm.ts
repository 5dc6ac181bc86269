// Evaluation with the compiled WASM bundle through @open-policy-agent/opa-wasm: the harness
// proves the generated policy with it, the CLI audits manifests with it, and the playground runs
// it in a browser (so nothing here imports Node's modules; bundle-dir.ts reads a bundle from disk).

import { loadPolicy } from '@open-policy-agent/opa-wasm';

export interface Violation {
  readonly rule: string;
  readonly action: 'deny' | 'warn';
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly path: string;
  readonly value?: unknown;
  readonly message: string;
  readonly list?: string;
  readonly container?: string;
}

export interface WasmPolicy {
  /** Replace the parameters (the bundle's data.json document). */
  setParams(params: unknown): void;
  violations(input: unknown): Violation[];
  allow(input: unknown): boolean;
}

type LoadedPolicy = Awaited<ReturnType<typeof loadPolicy>>;

/**
 * JSON text of `value` with every BigInt written out in full (the manifest reader keeps integers
 * beyond 2^53 as BigInts; JSON.stringify refuses them, and a number would round them).
 */
export function exactJson(value: unknown): string {
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : exactJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const members = Object.entries(value).filter(([, v]) => v !== undefined);
    return `{${members.map(([k, v]) => `${JSON.stringify(k)}:${exactJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The input as JSON text for opa-wasm, exact when it holds BigInts (JSON.stringify refuses those). */
function wasmInput(input: unknown): ArrayBuffer {
  let text: string;
  try {
    text = JSON.stringify(input);
  } catch (e) {
    if (!(e instanceof TypeError)) throw e;
    text = exactJson(input);
  }
  // encode() returns a new Uint8Array over its own buffer of exactly its length.
  return new TextEncoder().encode(text).buffer as ArrayBuffer;
}

function single(policy: LoadedPolicy, input: unknown, entrypoint: string): unknown {
  const rs = policy.evaluate(wasmInput(input), entrypoint) as { result: unknown }[];
  if (!Array.isArray(rs) || rs.length !== 1) throw new Error(`${entrypoint}: expected one result, got ${JSON.stringify(rs)}`);
  return rs[0]!.result;
}

export async function loadWasmPolicy(wasm: Uint8Array, packageName: string, params: unknown): Promise<WasmPolicy> {
  const policy = await loadPolicy(wasm);
  const setParams = (p: unknown) => policy.setData({ [packageName]: { params: p } } as object);
  setParams(params);
  return {
    setParams,
    violations: (input) => single(policy, input, `${packageName}/violations`) as Violation[],
    allow: (input) => single(policy, input, `${packageName}/allow`) === true,
  };
}

/** The WASM policy of a compiled rule set (from `compile`), with its parameters. */
export async function policyOf(compiled: { readonly ruleSet: { readonly name: string }; readonly params: unknown; readonly files: ReadonlyMap<string, string | Uint8Array> }): Promise<WasmPolicy> {
  const wasm = compiled.files.get('bundle/policy.wasm');
  if (!(wasm instanceof Uint8Array)) throw new Error(`${compiled.ruleSet.name}: no WASM bundle was compiled (is opa installed?)`);
  return loadWasmPolicy(wasm, compiled.ruleSet.name, compiled.params);
}
