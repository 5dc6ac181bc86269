// The OPA WASM bundle, compiled by the real `opa build -t wasm`. Capabilities are
// @open-policy-agent/opa-wasm's own list, so a builtin the JS SDK cannot run fails the build.
// That file predates capability "features"; the Rego v1 parser needs the `rego_v1` feature,
// which is syntax only and changes nothing in the compiled WASM, so it is added here.

import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { Diagnostic, Result } from '../ir/diagnostics.ts';
import { fail, ok } from '../ir/diagnostics.ts';

const require = createRequire(import.meta.url);

export const ENTRYPOINTS = ['violations', 'allow', 'deny', 'warn'] as const;

export function wasmCapabilities(): unknown {
  // The package's exports hide package.json; its main entry sits in src/, beside the package root.
  const path = join(dirname(require.resolve('@open-policy-agent/opa-wasm')), '..', 'capabilities.json');
  const caps = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  return { ...caps, features: ['rego_v1'] };
}

export interface BundleInput {
  readonly packageName: string;
  readonly rego: string;
  readonly params: unknown;
  readonly metadata: Record<string, string>;
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : [p];
  });
}

/** Returns the unpacked bundle files (policy.wasm, data.json, .manifest, the Rego). */
export function buildWasmBundle(opa: string, input: BundleInput): Result<Map<string, Uint8Array>> {
  const work = mkdtempSync(join(tmpdir(), 'eci-policy-bundle-'));
  try {
    const src = join(work, 'src');
    mkdirSync(join(src, input.packageName), { recursive: true });
    const data = `${JSON.stringify({ [input.packageName]: { params: input.params } }, null, 2)}\n`;
    const revision = createHash('sha256').update(input.rego).update('\0').update(data).digest('hex');
    writeFileSync(join(src, input.packageName, 'policy.rego'), input.rego);
    writeFileSync(join(src, 'data.json'), data);
    writeFileSync(
      join(src, '.manifest'),
      JSON.stringify({ revision: `sha256:${revision}`, roots: [input.packageName], metadata: input.metadata }),
    );
    const caps = join(work, 'capabilities.json');
    writeFileSync(caps, JSON.stringify(wasmCapabilities()));
    const out = join(work, 'bundle.tar.gz');
    const args = ['build', '-t', 'wasm', '--capabilities', caps, '-b', '.', '-o', out];
    for (const e of ENTRYPOINTS) args.push('-e', `${input.packageName}/${e}`);
    try {
      execFileSync(opa, args, { cwd: src, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      // opa prints its errors (parse errors, builtins the capabilities lack) on stdout.
      const err = e as { stdout?: Buffer; stderr?: Buffer; message: string };
      const said = `${err.stdout?.toString() ?? ''}${err.stderr?.toString() ?? ''}`.trim();
      return fail([{ code: 'opa-build', message: said || err.message }] as Diagnostic[]);
    }
    const unpacked = join(work, 'unpacked');
    mkdirSync(unpacked);
    execFileSync('tar', ['-xzf', out, '-C', unpacked], { stdio: ['ignore', 'pipe', 'pipe'] });
    const files = new Map<string, Uint8Array>();
    for (const file of walk(unpacked).sort()) files.set(relative(unpacked, file), readFileSync(file));
    return ok(files);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
