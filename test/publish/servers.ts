// Real servers for the publishing tests: a Node HTTP bundle server, `opa run --server`, a
// docker-registry. Each listens on 127.0.0.1 on a free port and is stopped by the test that
// started it, through a Cleanup run in `finally` (so also when an assertion fails).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadFixtures, type Fixture } from '../../src/fixtures/corpus.ts';
import { engine } from '../harness/engines.ts';
import { compareFacts, formatDiff, type Facts } from '../harness/facts.ts';

/** Undo steps, run last-in first-out; each runs even when an earlier one throws. */
export class Cleanup {
  private readonly steps: (() => unknown)[] = [];
  add(step: () => unknown): void {
    this.steps.push(step);
  }
  async run(): Promise<void> {
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch {
        // cleanup goes on
      }
    }
  }
}

export function tempDir(cleanup: Cleanup, label: string): string {
  const dir = mkdtempSync(join(tmpdir(), `eci-publish-${label}-`));
  cleanup.add(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A port nothing listens on now (the OS picks it; a server started right after takes it). */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const s = createNetServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => done(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, log?: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms${log ? `\n--- log (tail) ---\n${log().slice(-4000)}` : ''}`);
    await sleep(200);
  }
}

export interface Proc {
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  log(): string;
}

/** A server process; the cleanup sends SIGTERM, then SIGKILL after 5 s. */
export function startProcess(cleanup: Cleanup, cmd: string, args: readonly string[], cwd?: string): Proc {
  const child = spawn(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.on('error', (e) => (out += `\nspawn error: ${e.message}\n`));
  const closed = new Promise<void>((done) => child.once('close', () => done()));
  cleanup.add(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await closed;
    clearTimeout(killer);
  });
  return { child, log: () => out };
}

const INSTALL_TOOLS = 'bash scripts/install-tools.sh';
const PACKAGES: Record<string, string> = { 'docker-registry': 'docker-registry', skopeo: 'skopeo', kubectl: 'kubernetes-client', openssl: 'openssl' };

/** The path of a tool the test needs; a missing one fails the test with the command that installs it. */
export function requireTool(cmd: keyof typeof PACKAGES & string): string {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim();
  } catch {
    throw new Error(`${cmd} is not installed; install it with: ${INSTALL_TOOLS}   (apt-get install -y ${PACKAGES[cmd]})`);
  }
}

/** The pinned opa, which must have its WebAssembly engine to serve the compiled bundle. */
export function wasmOpa(): string {
  const opa = engine('opa');
  const version = execFileSync(opa, ['version'], { encoding: 'utf8' });
  if (!/^WebAssembly: available$/m.test(version))
    throw new Error(`${opa} was built without WebAssembly and cannot activate a Wasm bundle; rebuild it with: bash scripts/install-engines.sh opa`);
  return opa;
}

export interface KeyPair {
  readonly privateKey: string;
  readonly publicKey: string;
}

/** A fresh RSA key pair made with openssl in `dir` (test keys are never committed). */
export function keyPair(dir: string, name: string): KeyPair {
  const openssl = requireTool('openssl');
  const privateKey = join(dir, `${name}.pem`);
  const publicKey = join(dir, `${name}.pub.pem`);
  execFileSync(openssl, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', privateKey], { stdio: 'pipe' });
  execFileSync(openssl, ['pkey', '-in', privateKey, '-pubout', '-out', publicKey], { stdio: 'pipe' });
  return { privateKey, publicKey };
}

export interface FileServer {
  readonly url: string;
  /** Paths requested so far, in order. */
  readonly requests: string[];
}

/** A bundle server: GET <path> answers the file, with an ETag honoured in If-None-Match. */
export async function serveFiles(cleanup: Cleanup, files: ReadonlyMap<string, Uint8Array>): Promise<FileServer> {
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = files.get(req.url ?? '');
    if (req.method !== 'GET' || !body) return void res.writeHead(404).end();
    const etag = `"${createHash('sha256').update(body).digest('hex')}"`;
    if (req.headers['if-none-match'] === etag) return void res.writeHead(304).end();
    res.writeHead(200, { 'content-type': 'application/gzip', etag }).end(body);
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  cleanup.add(() => new Promise<void>((done) => server.close(() => done())));
  server.unref();
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

export interface OpaServer {
  readonly url: string;
  readonly proc: Proc;
}

/** `opa run --server` on 127.0.0.1 with `config` written as YAML (and any further arguments). */
export async function startOpa(cleanup: Cleanup, config: unknown, extraArgs: readonly string[] = []): Promise<OpaServer> {
  const dir = tempDir(cleanup, 'opa');
  const file = join(dir, 'opa-config.yaml');
  writeFileSync(file, stringify(config));
  const port = await freePort();
  const proc = startProcess(cleanup, wasmOpa(), ['run', '--server', '--addr', `127.0.0.1:${port}`, '--config-file', file, ...extraArgs], dir);
  const url = `http://127.0.0.1:${port}`;
  // Any answer: the server is up (bundles may still be on their way).
  await waitUntil('opa answers on its address', async () => (await fetch(`${url}/health`)).status > 0, 20_000, proc.log);
  return { url, proc };
}

/** `GET /health?bundles`: 200 once every configured bundle is activated. */
export async function bundlesActivated(opa: OpaServer): Promise<boolean> {
  return (await fetch(`${opa.url}/health?bundles`)).status === 200;
}

export async function waitForBundles(opa: OpaServer): Promise<void> {
  await waitUntil('opa activates its bundles (GET /health?bundles is 200)', () => bundlesActivated(opa), 30_000, opa.proc.log);
}

/** POST /v1/data/eci/violations; `undefined` when the decision is undefined (no policy loaded). */
export async function violations(opa: OpaServer, input: unknown): Promise<Facts[] | undefined> {
  const res = await fetch(`${opa.url}/v1/data/eci/violations`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ input }),
  });
  if (res.status !== 200) throw new Error(`POST /v1/data/eci/violations: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { result?: Facts[] }).result;
}

/**
 * The fixtures a published bundle answers as they stand: its data.json holds the default
 * parameters, so those whose `params` override them are left out.
 */
export const defaultParamFixtures = (): Fixture[] => loadFixtures('eci').filter((f) => !f.params);

/** Every fixture through the server's REST API; the differences, formatted (empty when all agree). */
export async function fixtureDiffs(opa: OpaServer, fixtures: readonly Fixture[]): Promise<string[]> {
  const out: string[] = [];
  for (const f of fixtures) {
    const result = await violations(opa, f.input);
    if (result === undefined) {
      out.push(`${f.name}: no decision (eci/violations undefined)`);
      continue;
    }
    const diff = compareFacts(f.expect, result);
    if (diff.missing.length || diff.unexpected.length) out.push(formatDiff(f.name, 'opa server', diff));
  }
  return out;
}
