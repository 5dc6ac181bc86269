// What `eci-policy publish` writes, without servers: the bundle manifest it carries, the
// tarball (the bundle folder's files byte for byte, deterministic), its signature as opa
// verifies it, the OCI image layout, and the errors a user can meet.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import spec from '../../spec/eci.ts';
import { COMPILER_VERSION, readTree } from '../../src/emit/build.ts';
import { parseParams } from '../../src/ir/params.ts';
import type { RuleSet } from '../../src/ir/types.ts';
import { validateRuleSet } from '../../src/ir/validate.ts';
import { MEDIA_TYPES } from '../../src/publish/oci.ts';
import { tarGz } from '../../src/publish/tar.ts';
import { ROOT, runCli, type Run } from '../cli/cli-helpers.ts';
import { engine } from '../harness/engines.ts';
import { Cleanup, keyPair, tempDir } from './servers.ts';

const run = promisify(execFile);
const BUNDLE = join(ROOT, 'generated', 'eci', 'bundle');
const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
function ruleSet(): RuleSet {
  const r = validateRuleSet(spec.toIR(), 'spec/eci.ts');
  if (!r.ok) throw new Error(r.errors.map((e) => e.message).join('\n'));
  return r.value;
}
const show = (r: Run) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

const cleanup = new Cleanup();
const work = tempDir(cleanup, 'archive');
const key = keyPair(work, 'publisher');
const other = keyPair(work, 'other');

/** The tarball's files, unpacked by GNU tar. */
async function unpack(tarball: string): Promise<Map<string, Uint8Array>> {
  const dir = join(work, `unpacked-${sha256(tarball).slice(0, 8)}`);
  mkdirSync(dir, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', dir]);
  return new Map([...readTree(dir)].map(([rel, c]) => [rel, typeof c === 'string' ? Buffer.from(c) : c]));
}

async function publish(args: readonly string[]): Promise<Run> {
  return runCli(['publish', '--rule-set', 'eci', ...args]);
}

test('the bundle manifest: revision is the content digest, roots, and rule set and compiler metadata', () => {
  const manifest = JSON.parse(readFileSync(join(BUNDLE, '.manifest'), 'utf8')) as Record<string, unknown>;
  // The digest of what `opa build` compiled: the Rego and the data as written from the
  // parameter file (opa re-serialises data.json in the bundle, so its bytes are not those).
  const rego = readFileSync(join(ROOT, 'generated', 'eci', 'rego', 'policy.rego'));
  const params = parseParams(ruleSet(), readFileSync(join(ROOT, 'spec', 'eci.params.yaml'), 'utf8'), 'spec/eci.params.yaml');
  assert.ok(params.ok);
  if (!params.ok) return;
  const data = `${JSON.stringify({ eci: { params: params.value } }, null, 2)}\n`;
  assert.equal(JSON.parse(readFileSync(join(BUNDLE, 'data.json'), 'utf8')), JSON.parse(data));
  const digest = createHash('sha256').update(rego).update('\0').update(data).digest('hex');
  assert.is(manifest['revision'], `sha256:${digest}`);
  assert.equal(manifest['roots'], ['eci']);
  assert.equal(manifest['metadata'], { compiler: `eci-policy ${COMPILER_VERSION}`, ruleSet: 'eci', ruleSetVersion: spec.toIR().version });
});

test('the tarball holds the bundle folder byte for byte, and the same bundle gives the same bytes', async () => {
  const [a, b] = [join(work, 'a.tar.gz'), join(work, 'b.tar.gz')];
  for (const out of [a, b]) {
    const r = await publish(['--out', out]);
    assert.is(r.code, 0, show(r));
    assert.match(r.stdout, /unsigned, revision sha256:[0-9a-f]{64}/);
  }
  assert.ok(readFileSync(a).equals(readFileSync(b)), 'two publishes differ');
  const { stdout } = await run('tar', ['-tzf', a]);
  assert.equal(stdout.trim().split('\n'), ['/.manifest', '/data.json', '/eci/policy.rego', '/policy.wasm']);
  const files = await unpack(a);
  const folder = readTree(BUNDLE);
  assert.equal([...files.keys()].sort(), [...folder.keys()].sort());
  for (const [rel, content] of folder) assert.ok(Buffer.from(content).equals(Buffer.from(files.get(rel)!)), `${rel} differs`);
});

test('signed: .signatures.json covers every file, opa build --verification-key accepts it and refuses another key', async () => {
  const out = join(work, 'signed.tar.gz');
  const r = await publish(['--out', out, '--signing-key', key.privateKey, '--signing-alg', 'RS256']);
  assert.is(r.code, 0, show(r));
  assert.match(r.stdout, /\(signed, /);
  const files = await unpack(out);
  const jwt = (JSON.parse(Buffer.from(files.get('.signatures.json')!).toString()) as { signatures: string[] }).signatures;
  assert.is(jwt.length, 1);
  const header = JSON.parse(Buffer.from(jwt[0]!.split('.')[0]!, 'base64url').toString()) as { alg: string };
  const payload = JSON.parse(Buffer.from(jwt[0]!.split('.')[1]!, 'base64url').toString()) as { files: { name: string; hash: string }[] };
  assert.is(header.alg, 'RS256');
  assert.equal(payload.files.map((f) => f.name).sort(), ['.manifest', 'data.json', 'eci/policy.rego', 'policy.wasm']);
  // Unstructured files are hashed as bytes (JSON files as canonical JSON).
  const wasm = payload.files.find((f) => f.name === 'policy.wasm')!;
  assert.is(wasm.hash, sha256(readFileSync(join(BUNDLE, 'policy.wasm'))));

  const opa = engine('opa');
  await run(opa, ['build', '--bundle', out, '--verification-key', key.publicKey, '-o', join(work, 'verified.tar.gz')]);
  const refused = await run(opa, ['build', '--bundle', out, '--verification-key', other.publicKey, '-o', join(work, 'refused.tar.gz')]).then(
    () => undefined,
    (e: { stdout?: string; stderr?: string }) => `${e.stdout ?? ''}${e.stderr ?? ''}`,
  );
  assert.ok(refused !== undefined, 'opa build verified the bundle with the wrong key');
  assert.match(refused, /failed to verify JWT signature: crypto\/rsa: verification error/);
});

test('OCI layout: the tarball as the layer, an empty config, the tag in index.json; a second tag keeps the first', async () => {
  const layout = join(work, 'layout');
  const out = join(work, 'oci.tar.gz');
  let r = await publish(['--out', out, '--oci', layout]);
  assert.is(r.code, 0, show(r));
  assert.match(r.stdout, new RegExp(`skopeo copy oci:${layout}:${spec.toIR().version} docker://`));
  r = await publish(['--out', out, '--oci', `${layout}:edge`]);
  assert.is(r.code, 0, show(r));

  assert.equal(JSON.parse(readFileSync(join(layout, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8')) as { manifests: { mediaType: string; digest: string; size: number; annotations: Record<string, string> }[] };
  assert.equal(index.manifests.map((m) => m.annotations['org.opencontainers.image.ref.name']), [spec.toIR().version, 'edge']);
  const blob = (digest: string) => readFileSync(join(layout, 'blobs', 'sha256', digest.replace(/^sha256:/, '')));
  for (const m of index.manifests) {
    assert.is(m.mediaType, MEDIA_TYPES.manifest);
    const bytes = blob(m.digest);
    assert.is(bytes.length, m.size);
    assert.is(`sha256:${sha256(bytes)}`, m.digest);
    const manifest = JSON.parse(bytes.toString()) as { config: { mediaType: string; digest: string }; layers: { mediaType: string; digest: string; size: number }[] };
    assert.is(manifest.config.mediaType, MEDIA_TYPES.config);
    assert.is(blob(manifest.config.digest).toString(), '{}');
    assert.equal(manifest.layers.map((l) => l.mediaType), [MEDIA_TYPES.layer]);
    assert.is(manifest.layers[0]!.digest, `sha256:${sha256(readFileSync(out))}`);
    assert.is(manifest.layers[0]!.size, readFileSync(out).length);
  }
  // Both tags name the same bytes: one manifest, stored once.
  assert.is(readdirSync(join(layout, 'blobs', 'sha256')).length, 3);
});

test('errors: each with its code, exit 2, and nothing written', async () => {
  const out = join(work, 'never.tar.gz');
  const notLayout = join(work, 'not-a-layout');
  mkdirSync(notLayout);
  writeFileSync(join(notLayout, 'notes.txt'), 'mine\n');
  const notPem = join(work, 'not-a-key.pem');
  writeFileSync(notPem, 'not a key\n');
  const cases: [string[], RegExp][] = [
    [['--out', out, '--signing-key', join(work, 'missing.pem')], /signing-key-missing: signing key file does not exist/],
    [['--out', out, '--signing-key', notPem], /opa-sign: /],
    [['--out', out, '--oci', notLayout], /oci-target: the folder exists and is not an OCI image layout/],
    [['--out', out, '--oci', `${join(work, 'l')}:-bad`], /oci-tag: .* is not an OCI tag/],
  ];
  const runs = await Promise.all(cases.map(([args]) => publish(args)));
  for (const [i, [args, message]] of cases.entries()) {
    const r = runs[i]!;
    assert.is(r.code, 2, `${args.join(' ')}: ${show(r)}`);
    assert.match(r.stderr, message);
    assert.match(r.stderr, /publish failed, nothing written/);
  }
  const missing = await runCli(['publish', '--bundle', join(work, 'no-bundle'), '--out', out]);
  assert.is(missing.code, 2, show(missing));
  assert.match(missing.stderr, /bundle-missing: /);
  const usage = await publish(['--out', out, '--signing-alg', 'ES256']);
  assert.is(usage.code, 2, show(usage));
  assert.match(usage.stderr, /--signing-alg needs --signing-key/);
  assert.not.ok(existsSync(out), 'a failed publish wrote the tarball');
  assert.equal(readdirSync(notLayout), ['notes.txt']);
});

test('tar: a long path is split into ustar prefix and name; one that cannot be is an error', async () => {
  const long = `/${'d'.repeat(90)}/${'e'.repeat(60)}/policy.rego`;
  const r = tarGz(new Map([[long, Buffer.from('package x\n')]]));
  assert.ok(r.ok);
  if (!r.ok) return;
  const file = join(work, 'long.tar.gz');
  writeFileSync(file, r.value);
  const { stdout } = await run('tar', ['-tzf', file]);
  assert.is(stdout.trim(), long);
  const bad = tarGz(new Map([[`/${'x'.repeat(120)}`, Buffer.from('')]]));
  assert.not.ok(bad.ok);
  if (!bad.ok) assert.is(bad.errors[0]!.code, 'archive-name');
});

test.after(() => cleanup.run());

test.run();
