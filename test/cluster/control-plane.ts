// A Kubernetes control plane for the tests: etcd and kube-apiserver, built pinned by
// scripts/install-engines.sh (tools/cluster), started on loopback on free ports in a temporary
// folder, with certificates, service-account keys and admin credentials made here (openssl).
// Admission needs only these two: no nodes, no container runtime. A server-side dry-run create
// runs the whole admission chain, ValidatingAdmissionPolicy included.
//
// Flags that matter for admission tests (kube-apiserver --help, v1.37):
// - --allow-privileged: without it the API server's own validation rejects privileged pods
//   before any policy sees them;
// - the ServiceAccount admission plugin is disabled: it rejects pods in a namespace whose
//   `default` service account does not exist, and no controller manager runs to create one.

import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { engine } from '../harness/engines.ts';

export interface ApiResponse {
  readonly status: number;
  readonly body: unknown;
  /** The `Warning` headers' texts (RFC 7234 warn-text, unquoted). */
  readonly warnings: readonly string[];
}

export interface ControlPlane {
  readonly server: string;
  readonly kubeconfig: string;
  /** The temporary folder (removed by stop): a place for a webhook's files. */
  readonly dir: string;
  /**
   * A serving certificate for 127.0.0.1 signed by the cluster's CA, written as `<name>/tls.crt`
   * and `<name>/tls.key` under dir (the names controller-runtime's webhook server reads), and
   * the CA as a webhook configuration's caBundle (base64 PEM).
   */
  readonly servingCertificate: (name: string) => { readonly certDir: string; readonly caBundle: string };
  /** A request to the API server as the admin. */
  readonly api: (method: string, path: string, body?: unknown) => Promise<ApiResponse>;
  /** The pinned kubectl against this API server; a non-zero exit is returned, not thrown. */
  readonly kubectl: (args: readonly string[]) => Promise<{ stdout: string; stderr: string; code: number }>;
  readonly stop: () => Promise<void>;
  /** The last lines each process wrote (for a failure's message). */
  readonly logs: () => string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

function openssl(dir: string, args: readonly string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A CA, the API server's serving certificate (127.0.0.1), an admin client certificate, service-account keys. */
function makeCertificates(dir: string): void {
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  const days = ['-days', '2'];
  openssl(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.crt', '-subj', '/CN=eci-policy-test-ca', ...days]);
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=kube-apiserver']);
  openssl(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.crt', '-extfile', 'server.ext', ...days]);
  writeFileSync(join(dir, 'client.ext'), 'extendedKeyUsage=clientAuth\n');
  openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'admin.key', '-out', 'admin.csr', '-subj', '/CN=admin/O=system:masters']);
  openssl(dir, ['x509', '-req', '-in', 'admin.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'admin.crt', '-extfile', 'client.ext', ...days]);
  openssl(dir, ['genrsa', '-out', 'sa.key', '2048']);
  openssl(dir, ['rsa', '-in', 'sa.key', '-pubout', '-out', 'sa.pub']);
}

/** Children still running are killed when the test process exits, however it exits. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const p of running) p.kill('SIGKILL');
});

/** A child process whose last 40 output lines are kept in `tail`; killed when the test process exits. */
export function startProcess(bin: string, args: readonly string[], tail: string[], env?: NodeJS.ProcessEnv): ChildProcess {
  const p = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env: { ...process.env, ...env } } : {}) });
  running.add(p);
  p.once('exit', () => running.delete(p));
  const keep = (chunk: Buffer) => {
    tail.push(...chunk.toString().split('\n').filter(Boolean));
    if (tail.length > 40) tail.splice(0, tail.length - 40);
  };
  p.stdout!.on('data', keep);
  p.stderr!.on('data', keep);
  return p;
}

/** SIGTERM, then SIGKILL after 10 s. */
export async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => p.once('exit', () => resolve()));
  p.kill('SIGTERM');
  const timer = setTimeout(() => p.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts etcd and kube-apiserver. A test file starts one in `test.before`, not at its top level:
 * uvu imports every file before it runs any test, so top-level starts would all run at once.
 */
export async function startControlPlane(): Promise<ControlPlane> {
  const dir = mkdtempSync(join(tmpdir(), 'eci-cluster-'));
  const etcdTail: string[] = [];
  const apiTail: string[] = [];
  const procs: ChildProcess[] = [];
  const stop = async () => {
    for (const p of [...procs].reverse()) await stopProcess(p);
    rmSync(dir, { recursive: true, force: true });
  };
  const logs = () => `etcd:\n${etcdTail.join('\n')}\nkube-apiserver:\n${apiTail.join('\n')}`;
  try {
    makeCertificates(dir);
    const [etcdClient, etcdPeer, securePort] = [await freePort(), await freePort(), await freePort()];
    const etcdUrl = `http://127.0.0.1:${etcdClient}`;
    const peerUrl = `http://127.0.0.1:${etcdPeer}`;
    procs.push(
      startProcess(
        engine('etcd'),
        [
          '--name=test',
          `--data-dir=${join(dir, 'etcd')}`,
          `--listen-client-urls=${etcdUrl}`,
          `--advertise-client-urls=${etcdUrl}`,
          `--listen-peer-urls=${peerUrl}`,
          `--initial-advertise-peer-urls=${peerUrl}`,
          `--initial-cluster=test=${peerUrl}`,
          '--unsafe-no-fsync',
          '--log-level=warn',
        ],
        etcdTail,
      ),
    );
    procs.push(
      startProcess(
        engine('kube-apiserver'),
        [
          `--etcd-servers=${etcdUrl}`,
          '--bind-address=127.0.0.1',
          '--advertise-address=127.0.0.1',
          // The `kubernetes` Service's endpoint reconciler refuses a loopback address.
          '--endpoint-reconciler-type=none',
          `--secure-port=${securePort}`,
          `--cert-dir=${join(dir, 'certs')}`,
          `--tls-cert-file=${join(dir, 'server.crt')}`,
          `--tls-private-key-file=${join(dir, 'server.key')}`,
          `--client-ca-file=${join(dir, 'ca.crt')}`,
          `--service-account-key-file=${join(dir, 'sa.pub')}`,
          `--service-account-signing-key-file=${join(dir, 'sa.key')}`,
          '--service-account-issuer=https://kubernetes.default.svc',
          '--service-cluster-ip-range=10.0.0.0/24',
          '--authorization-mode=RBAC',
          '--allow-privileged=true',
          '--disable-admission-plugins=ServiceAccount',
          '--profiling=false',
          '--v=0',
        ],
        apiTail,
      ),
    );
    const server = `https://127.0.0.1:${securePort}`;
    const ca = readFileSync(join(dir, 'ca.crt'));
    const cert = readFileSync(join(dir, 'admin.crt'));
    const key = readFileSync(join(dir, 'admin.key'));
    const api = (method: string, path: string, body?: unknown): Promise<ApiResponse> =>
      new Promise((resolve, reject) => {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const req = request(
          `${server}${path}`,
          { method, ca, cert, key, headers: { accept: 'application/json', ...(payload ? { 'content-type': 'application/json' } : {}) } },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString();
              let parsed: unknown = text;
              try {
                parsed = JSON.parse(text);
              } catch {
                // not JSON (readyz says "ok")
              }
              // One Warning header per warning: headersDistinct keeps them apart (res.headers
              // joins repeated headers with ", ", and a warning's text may hold one).
              const raw = res.headersDistinct['warning'] ?? [];
              const warnings = raw.map((w) => /^\d{3} \S+ "((?:[^"\\]|\\.)*)"/.exec(w)?.[1]?.replace(/\\(.)/g, '$1') ?? w);
              resolve({ status: res.statusCode ?? 0, body: parsed, warnings });
            });
          },
        );
        req.on('error', reject);
        if (payload) req.write(payload);
        req.end();
      });
    // Ready: /readyz answers 200 (etcd reached, bootstrap done), within a minute.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const r = await api('GET', '/readyz').catch(() => undefined);
      if (r?.status === 200) break;
      if (procs.some((p) => p.exitCode !== null) || Date.now() > deadline) throw new Error(`the control plane did not become ready:\n${logs()}`);
      await new Promise((res) => setTimeout(res, 250));
    }
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(
      kubeconfig,
      [
        'apiVersion: v1',
        'kind: Config',
        `clusters: [{name: test, cluster: {server: "${server}", certificate-authority: "${join(dir, 'ca.crt')}"}}]`,
        `users: [{name: admin, user: {client-certificate: "${join(dir, 'admin.crt')}", client-key: "${join(dir, 'admin.key')}"}}]`,
        'contexts: [{name: test, context: {cluster: test, user: admin}}]',
        'current-context: test',
        '',
      ].join('\n'),
    );
    const kubectl = async (args: readonly string[]) => {
      try {
        const { stdout, stderr } = await promisify(execFile)(engine('kubectl'), ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 64 << 20 });
        return { stdout, stderr, code: 0 };
      } catch (e) {
        const err = e as { stdout?: string; stderr?: string; code?: number };
        return { stdout: err.stdout ?? '', stderr: err.stderr ?? '', code: err.code ?? 1 };
      }
    };
    const servingCertificate = (name: string) => {
      const certDir = join(dir, name);
      mkdirSync(certDir);
      openssl(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(certDir, 'tls.key'), '-out', join(certDir, 'tls.csr'), '-subj', `/CN=${name}`]);
      openssl(dir, ['x509', '-req', '-in', join(certDir, 'tls.csr'), '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', join(certDir, 'tls.crt'), '-extfile', 'server.ext', '-days', '2']);
      return { certDir, caBundle: ca.toString('base64') };
    };
    return { server, kubeconfig, dir, servingCertificate, api, kubectl, stop, logs };
  } catch (e) {
    await stop();
    throw e;
  }
}
