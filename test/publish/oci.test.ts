// Publishing to an OCI registry, end to end: `eci-policy publish --oci` writes an OCI image
// layout, skopeo pushes it to a local docker-registry (plain HTTP on 127.0.0.1), and a real
// `opa run --server` with a service of `type: oci` pulls it and answers every fixture that uses
// the default parameters; a signed tag, with the key configured, likewise.

import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { stringify } from 'yaml';
import { runCli } from '../cli/cli-helpers.ts';
import { MEDIA_TYPES } from '../../src/publish/oci.ts';
import {
  Cleanup,
  defaultParamFixtures,
  fixtureDiffs,
  freePort,
  keyPair,
  requireTool,
  startOpa,
  startProcess,
  tempDir,
  waitForBundles,
  waitUntil,
  type Proc,
} from './servers.ts';

const run = promisify(execFile);
const fixtures = defaultParamFixtures();
const TAG = 'v1';
const SIGNED_TAG = 'v1-signed';

interface Registry {
  readonly host: string;
  readonly proc: Proc;
}

/** docker-registry with its own configuration: 127.0.0.1 and a free port, storage in `dir`. */
async function startRegistry(cleanup: Cleanup, dir: string): Promise<Registry> {
  const registry = requireTool('docker-registry');
  const port = await freePort();
  const config = join(dir, 'registry.yaml');
  mkdirSync(join(dir, 'storage'));
  writeFileSync(
    config,
    stringify({ version: 0.1, log: { level: 'info' }, storage: { filesystem: { rootdirectory: join(dir, 'storage') } }, http: { addr: `127.0.0.1:${port}` } }),
  );
  const proc = startProcess(cleanup, registry, ['serve', config], dir);
  const host = `127.0.0.1:${port}`;
  await waitUntil('docker-registry answers GET /v2/', async () => (await fetch(`http://${host}/v2/`)).status === 200, 20_000, proc.log);
  return { host, proc };
}

/** skopeo copy from the layout to the registry; its own trust policy, so none of the machine's applies. */
async function push(dir: string, layout: string, tag: string, ref: string): Promise<void> {
  const skopeo = requireTool('skopeo');
  const policy = join(dir, 'policy.json');
  writeFileSync(policy, JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }));
  await run(skopeo, ['--policy', policy, 'copy', '--dest-tls-verify=false', `oci:${layout}:${tag}`, `docker://${ref}`]);
}

test('OCI: the layout pushed with skopeo to a registry is pulled by opa (type: oci) and answers every fixture', async () => {
  const cleanup = new Cleanup();
  try {
    const dir = tempDir(cleanup, 'oci');
    const layout = join(dir, 'layout');
    const tarball = join(dir, 'bundle.tar.gz');
    const r = await runCli(['publish', '--rule-set', 'eci', '--out', tarball, '--oci', `${layout}:${TAG}`]);
    assert.is(r.code, 0, r.stderr);

    const registry = await startRegistry(cleanup, dir);
    const ref = `${registry.host}/eci:${TAG}`;
    await push(dir, layout, TAG, ref);

    // What the registry holds is the artifact OPA's downloader looks for: the tarball as the layer.
    const res = await fetch(`http://${registry.host}/v2/eci/manifests/${TAG}`, { headers: { accept: MEDIA_TYPES.manifest } });
    assert.is(res.status, 200);
    const manifest = (await res.json()) as { mediaType: string; config: { mediaType: string }; layers: { mediaType: string; digest: string }[] };
    assert.is(manifest.mediaType, MEDIA_TYPES.manifest);
    assert.is(manifest.config.mediaType, MEDIA_TYPES.config);
    assert.equal(
      manifest.layers.map((l) => [l.mediaType, l.digest]),
      [[MEDIA_TYPES.layer, `sha256:${createHash('sha256').update(readFileSync(tarball)).digest('hex')}`]],
    );

    const opa = await startOpa(cleanup, {
      services: { registry: { url: `http://${registry.host}`, type: 'oci' } },
      bundles: { eci: { service: 'registry', resource: ref, polling: { min_delay_seconds: 1, max_delay_seconds: 2 } } },
      // The OCI downloader keeps its blob store here (else in the system's temporary folder).
      persistence_directory: join(dir, 'opa'),
    });
    await waitForBundles(opa);
    assert.equal(await fixtureDiffs(opa, fixtures), []);
  } finally {
    await cleanup.run();
  }
});

test('OCI, signed: a signed tag in the same layout is pulled and verified with the configured key', async () => {
  const cleanup = new Cleanup();
  try {
    const dir = tempDir(cleanup, 'oci-signed');
    const key = keyPair(dir, 'publisher');
    const layout = join(dir, 'layout');
    const r = await runCli(['publish', '--rule-set', 'eci', '--out', join(dir, 'bundle.tar.gz'), '--signing-key', key.privateKey, '--oci', `${layout}:${SIGNED_TAG}`]);
    assert.is(r.code, 0, r.stderr);
    const registry = await startRegistry(cleanup, dir);
    const ref = `${registry.host}/eci:${SIGNED_TAG}`;
    await push(dir, layout, SIGNED_TAG, ref);
    const opa = await startOpa(cleanup, {
      services: { registry: { url: `http://${registry.host}`, type: 'oci' } },
      bundles: { eci: { service: 'registry', resource: ref, polling: { min_delay_seconds: 1, max_delay_seconds: 2 }, signing: { keyid: 'eci-publisher' } } },
      keys: { 'eci-publisher': { algorithm: 'RS256', key: readFileSync(key.publicKey, 'utf8') } },
      persistence_directory: join(dir, 'opa'),
    });
    await waitForBundles(opa);
    assert.equal(await fixtureDiffs(opa, fixtures.slice(0, 40)), []);
  } finally {
    await cleanup.run();
  }
});

test.run();
