// Publishing over HTTP, end to end: `eci-policy publish` writes the bundle tarball, a Node HTTP
// server serves it, a real `opa run --server` pulls it with the bundle plugin (polling) and
// answers every fixture that uses the default parameters through its REST API. Signed: OPA
// verifies the signature with the configured public key (keys + bundles.eci.signing.keyid), and
// refuses a bundle signed with another key. Also `opa run --bundle … --verification-key`.

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCli } from '../cli/cli-helpers.ts';
import {
  bundlesActivated,
  Cleanup,
  defaultParamFixtures,
  fixtureDiffs,
  freePort,
  keyPair,
  serveFiles,
  startOpa,
  startProcess,
  tempDir,
  violations,
  waitForBundles,
  waitUntil,
  wasmOpa,
  type KeyPair,
} from './servers.ts';

const fixtures = defaultParamFixtures();
const RESOURCE = '/bundles/eci/bundle.tar.gz';

/** `eci-policy publish` into `dir`; the tarball's bytes. */
async function published(dir: string, name: string, key?: KeyPair): Promise<Uint8Array> {
  const out = join(dir, name);
  const r = await runCli(['publish', '--rule-set', 'eci', '--out', out, ...(key ? ['--signing-key', key.privateKey] : [])]);
  assert.is(r.code, 0, r.stderr);
  return readFileSync(out);
}

/** The OPA configuration of the README's recipe: one HTTP service, one bundle polled from it. */
function httpConfig(serviceUrl: string, signing?: { keyid: string; publicKey: string }): unknown {
  return {
    services: { bundles: { url: `${serviceUrl}/bundles` } },
    bundles: {
      eci: {
        service: 'bundles',
        resource: 'eci/bundle.tar.gz',
        polling: { min_delay_seconds: 1, max_delay_seconds: 2 },
        ...(signing ? { signing: { keyid: signing.keyid } } : {}),
      },
    },
    ...(signing ? { keys: { [signing.keyid]: { algorithm: 'RS256', key: readFileSync(signing.publicKey, 'utf8') } } } : {}),
  };
}

test('the fixtures with default parameters are many, and the bundle has a Wasm OPA to run on', () => {
  assert.ok(fixtures.length >= 100, `${fixtures.length} fixtures`);
  wasmOpa();
});

test('HTTP: opa pulls the published bundle from a bundle server and answers every fixture', async () => {
  const cleanup = new Cleanup();
  try {
    const dir = tempDir(cleanup, 'http');
    const server = await serveFiles(cleanup, new Map([[RESOURCE, await published(dir, 'bundle.tar.gz')]]));
    const opa = await startOpa(cleanup, httpConfig(server.url));
    await waitForBundles(opa);
    assert.ok(server.requests.includes(RESOURCE), `requests: ${server.requests.join(', ')}`);
    assert.equal(await fixtureDiffs(opa, fixtures), []);
  } finally {
    await cleanup.run();
  }
});

test('signed HTTP: opa verifies the signature with the configured key and answers every fixture', async () => {
  const cleanup = new Cleanup();
  try {
    const dir = tempDir(cleanup, 'signed');
    const key = keyPair(dir, 'publisher');
    const server = await serveFiles(cleanup, new Map([[RESOURCE, await published(dir, 'bundle.tar.gz', key)]]));
    const opa = await startOpa(cleanup, httpConfig(server.url, { keyid: 'eci-publisher', publicKey: key.publicKey }));
    await waitForBundles(opa);
    assert.equal(await fixtureDiffs(opa, fixtures), []);
  } finally {
    await cleanup.run();
  }
});

test('signed HTTP: a bundle signed with another key never activates, and opa says verification failed', async () => {
  const cleanup = new Cleanup();
  try {
    const dir = tempDir(cleanup, 'forged');
    const trusted = keyPair(dir, 'publisher');
    const other = keyPair(dir, 'other');
    const server = await serveFiles(cleanup, new Map([[RESOURCE, await published(dir, 'bundle.tar.gz', other)]]));
    const opa = await startOpa(cleanup, httpConfig(server.url, { keyid: 'eci-publisher', publicKey: trusted.publicKey }));
    // Two downloads at least: OPA has had the bundle, refused it, and tried again.
    await waitUntil('opa downloads the bundle twice', async () => server.requests.filter((r) => r === RESOURCE).length >= 2, 20_000, opa.proc.log);
    assert.ok(/failed to verify JWT signature: crypto\/rsa: verification error/.test(opa.proc.log()), opa.proc.log().slice(-3000));
    assert.not.ok(await bundlesActivated(opa), 'GET /health?bundles must not be OK');
    assert.is(await violations(opa, fixtures[0]!.input), undefined, 'no policy is loaded, so no decision');
    assert.not.ok(/Bundle loaded and activated successfully/.test(opa.proc.log()));
  } finally {
    await cleanup.run();
  }
});

test('signed file: opa run --bundle --verification-key serves the signed tarball, and refuses another key', async () => {
  const cleanup = new Cleanup();
  try {
    const dir = tempDir(cleanup, 'file');
    const key = keyPair(dir, 'publisher');
    const other = keyPair(dir, 'other');
    await published(dir, 'bundle.tar.gz', key);
    const tarball = join(dir, 'bundle.tar.gz');
    const port = await freePort();
    const proc = startProcess(cleanup, wasmOpa(), ['run', '--server', '--addr', `127.0.0.1:${port}`, '--bundle', tarball, '--verification-key', key.publicKey], dir);
    const opa = { url: `http://127.0.0.1:${port}`, proc };
    await waitUntil('opa serves the verified bundle', async () => (await fetch(`${opa.url}/health`)).status === 200, 20_000, proc.log);
    assert.equal(await fixtureDiffs(opa, fixtures.slice(0, 20)), []);

    const refused = startProcess(cleanup, wasmOpa(), ['run', '--server', '--addr', `127.0.0.1:${await freePort()}`, '--bundle', tarball, '--verification-key', other.publicKey], dir);
    await waitUntil('opa exits on a bundle it cannot verify', async () => refused.child.exitCode !== null, 20_000, refused.log);
    assert.is.not(refused.child.exitCode, 0);
    assert.match(refused.log(), /verification error/);
  } finally {
    await cleanup.run();
  }
});

test.run();
