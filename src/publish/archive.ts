// The bundle tarball OPA downloads (from a bundle server or an OCI registry): the files of
// generated/<rule-set>/bundle, byte for byte, optionally signed.
//
// Signing uses `opa sign` (what `opa build --signing-key` runs) on exactly the files archived,
// and the archive is written here. `opa build` cannot repack a compiled Wasm bundle: from the
// folder it rewrites the manifest's module paths (`/policy.wasm` → `policy.wasm`) but not the
// archive's, and from a tarball it prefixes every path with the tarball's name; either way OPA
// then refuses the bundle ("manifest references wasm module … but the module file does not exist").

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { readTree } from '../emit/build.ts';
import type { Result } from '../ir/diagnostics.ts';
import { fail, ok } from '../ir/diagnostics.ts';
import { tarGz } from './tar.ts';

export const SIGNATURES = '.signatures.json';

export interface BundleManifest {
  readonly revision: string;
  readonly roots: readonly string[];
  readonly metadata: Readonly<Record<string, unknown>>;
}

export interface SigningOptions {
  /** The opa binary. */
  readonly opa: string;
  /** PEM private key (RSA or ECDSA). */
  readonly key: string;
  /** JWT algorithm, e.g. RS256 (opa's default) or ES256. */
  readonly alg?: string;
}

export interface BundleArchive {
  readonly tarball: Uint8Array;
  readonly manifest: BundleManifest;
  /** The archived files, as named in the tarball. */
  readonly entries: readonly string[];
  readonly signed: boolean;
}

/** The bundle's .manifest, which must name its revision and roots. */
export function readManifest(bundleDir: string): Result<BundleManifest> {
  const file = join(bundleDir, '.manifest');
  if (!existsSync(bundleDir) || !statSync(bundleDir).isDirectory())
    return fail([{ code: 'bundle-missing', message: 'no bundle folder here: run npm run build-policies, or pass --bundle', file: bundleDir }]);
  let m: Partial<BundleManifest>;
  try {
    m = JSON.parse(readFileSync(file, 'utf8')) as Partial<BundleManifest>;
  } catch (e) {
    return fail([{ code: 'bundle-invalid', message: `cannot read the manifest: ${(e as Error).message}`, file }]);
  }
  if (typeof m.revision !== 'string' || !Array.isArray(m.roots) || !m.roots.length)
    return fail([{ code: 'bundle-invalid', message: 'the manifest must carry a revision and roots', file }]);
  return ok({ revision: m.revision, roots: m.roots, metadata: m.metadata ?? {} });
}

/** `opa sign` over a copy of the files; returns the .signatures.json it writes. */
function sign(files: ReadonlyMap<string, Uint8Array>, signing: SigningOptions): Result<Uint8Array> {
  if (!existsSync(signing.key)) return fail([{ code: 'signing-key-missing', message: 'signing key file does not exist', file: signing.key }]);
  const work = mkdtempSync(join(tmpdir(), 'eci-policy-sign-'));
  try {
    const dir = join(work, 'bundle');
    for (const [rel, content] of files) {
      mkdirSync(dirname(join(dir, rel)), { recursive: true });
      writeFileSync(join(dir, rel), content);
    }
    const args = ['sign', '--bundle', '.', '--signing-key', signing.key, '--output-file-path', work];
    if (signing.alg) args.push('--signing-alg', signing.alg);
    try {
      execFileSync(signing.opa, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      const err = e as { stdout?: Buffer; stderr?: Buffer; message: string };
      const said = `${err.stdout?.toString() ?? ''}${err.stderr?.toString() ?? ''}`.trim();
      return fail([{ code: 'opa-sign', message: said || err.message, file: signing.key }]);
    }
    return ok(readFileSync(join(work, SIGNATURES)));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * The tarball of a bundle folder. Entry names start with '/', as `opa build` writes them: OPA
 * matches the manifest's Wasm module path (`/policy.wasm`) against them verbatim. A
 * .signatures.json already in the folder is not carried over: the archive is signed afresh or not.
 */
export function bundleArchive(bundleDir: string, signing?: SigningOptions): Result<BundleArchive> {
  const manifest = readManifest(bundleDir);
  if (!manifest.ok) return manifest;
  const files = new Map<string, Uint8Array>();
  for (const [rel, content] of readTree(bundleDir)) if (rel !== SIGNATURES) files.set(rel, typeof content === 'string' ? Buffer.from(content) : content);
  if (signing) {
    const signature = sign(files, signing);
    if (!signature.ok) return signature;
    files.set(SIGNATURES, signature.value);
  }
  const named = new Map([...files].map(([rel, content]) => [`/${rel}`, content]));
  const tarball = tarGz(named);
  if (!tarball.ok) return tarball;
  return ok({ tarball: tarball.value, manifest: manifest.value, entries: [...named.keys()].sort(), signed: !!signing });
}
