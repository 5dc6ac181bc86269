// `eci-policy publish`: pack a compiled bundle into the tarball OPA downloads, optionally signed,
// and optionally into an OCI image layout to push to a registry.

import { resolve } from 'node:path';
import { writeFileAtomically } from '../emit/atomic.ts';
import { findEngine, installHint } from '../emit/engines.ts';
import type { Diagnostic } from '../ir/diagnostics.ts';
import { formatDiagnostic } from '../ir/diagnostics.ts';
import { bundleArchive, type SigningOptions } from '../publish/archive.ts';
import { parseOciTarget, writeOciLayout } from '../publish/oci.ts';
import { bundleFor } from './bundles.ts';
import { parseCommand, usageError } from './usage.ts';

export const PUBLISH_USAGE = `Usage: eci-policy publish [--rule-set <name> | --bundle <dir>] [--out <file.tar.gz>] [--signing-key <pem> [--signing-alg <alg>]] [--oci <dir>[:<tag>]]

Packs a compiled bundle (policy.wasm, data.json, .manifest, Rego) into the tarball OPA downloads
from a bundle server, and with --oci into an OCI image layout to push to a registry.

  --rule-set <name>     use generated/<name>/bundle (default: the only rule set in generated/)
  --bundle <dir>        use this bundle folder
  --out <file>          the bundle tarball (default: bundle.tar.gz)
  --signing-key <pem>   sign the bundle with this private key (opa sign; adds .signatures.json),
                        for OPA configured to verify it (keys + bundles.<name>.signing.keyid)
  --signing-alg <alg>   JWT algorithm of the key (default RS256; e.g. ES256 for an EC key)
  --oci <dir>[:<tag>]   also write an OCI image layout holding the tarball as its layer, tagged
                        <tag> (default: the rule set's version); push it with
                        skopeo copy oci:<dir>:<tag> docker://<registry>/<repository>:<tag>

Exit codes: 0 ok, 2 usage or input error.`;

function report(errors: readonly Diagnostic[]): number {
  for (const d of errors) process.stderr.write(`${formatDiagnostic(d)}\n`);
  process.stderr.write('eci-policy: publish failed, nothing written\n');
  return 2;
}

export async function publish(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    PUBLISH_USAGE,
    argv,
    {
      'rule-set': { type: 'string' },
      bundle: { type: 'string' },
      out: { type: 'string', default: 'bundle.tar.gz' },
      'signing-key': { type: 'string' },
      'signing-alg': { type: 'string' },
      oci: { type: 'string' },
    },
    false,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  if (values.bundle && values['rule-set']) usageError(PUBLISH_USAGE, '--bundle and --rule-set are alternatives');
  if (values['signing-alg'] && !values['signing-key']) usageError(PUBLISH_USAGE, '--signing-alg needs --signing-key');

  const bundleDir = resolve(values.bundle ?? bundleFor(values['rule-set'], PUBLISH_USAGE));
  let signing: SigningOptions | undefined;
  if (values['signing-key']) {
    const opa = findEngine('opa');
    if (!opa) return report([{ code: 'opa-missing', message: `signing needs opa; ${installHint('opa')}` }]);
    signing = { opa, key: resolve(values['signing-key']), ...(values['signing-alg'] ? { alg: values['signing-alg'] } : {}) };
  }
  const archive = bundleArchive(bundleDir, signing);
  if (!archive.ok) return report(archive.errors);
  const { tarball, manifest, signed } = archive.value;
  const oci = values.oci === undefined ? undefined : parseOciTarget(values.oci, manifest);
  if (oci && !oci.ok) return report(oci.errors);

  // The layout first: it is the step that can still refuse (a folder that is not a layout).
  if (oci?.ok) {
    const written = writeOciLayout(oci.value, tarball, manifest);
    if (!written.ok) return report(written.errors);
    const { dir, tag } = oci.value;
    process.stdout.write(
      `eci-policy: wrote OCI image layout ${dir}, tag ${tag} (manifest ${written.value.digest})\n` +
        `  push with: skopeo copy oci:${dir}:${tag} docker://<registry>/<repository>:${tag}\n`,
    );
  }
  writeFileAtomically(resolve(values.out), tarball);
  process.stdout.write(`eci-policy: wrote ${values.out} (${signed ? 'signed' : 'unsigned'}, revision ${manifest.revision})\n`);
  return 0;
}
