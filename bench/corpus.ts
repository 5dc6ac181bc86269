// The benchmark's corpus: a seeded generator for the typical pod (compliant and violating) and
// the wide pods, and the PSA v1.37 fixtures read from the peer fixtures. The same seed gives
// the same pods byte for byte, so runs on different commits measure the same inputs.

import { loadResource, loadSource, objectOf, peerFixturesRoot } from '../test/conformance/sources.ts';

export const SEED = 20260612;
export const WIDE_SIZES = [1, 10, 100, 1000, 5000] as const;
export type Pod = Record<string, unknown>;

/** mulberry32: a small, fast, seeded PRNG (deterministic across Node versions). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const IMAGES = ['registry.example.com/shop/web:1.42.0', 'registry.example.com/shop/api:3.7.1', 'registry.example.com/base/envoy:1.31.2', 'registry.example.com/ops/log-agent:0.9.4'];

/**
 * A container that every rule set's default parameters accept: non-root user, seccomp
 * RuntimeDefault, no privilege escalation, every capability dropped. (ECI does
 * not honour allowPrivilegeEscalation and seccompProfile: it warns, never denies.)
 */
function container(rand: () => number, name: string, withPort: boolean): Pod {
  const cpu = 100 + Math.floor(rand() * 8) * 50;
  return {
    name,
    image: IMAGES[Math.floor(rand() * IMAGES.length)],
    ...(withPort ? { ports: [{ name: 'http', containerPort: 8080 + Math.floor(rand() * 10), protocol: 'TCP' }] } : {}),
    resources: { limits: { cpu: `${cpu}m`, memory: '512Mi' } },
    securityContext: {
      runAsNonRoot: true,
      runAsUser: 10000 + Math.floor(rand() * 1000),
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
      seccompProfile: { type: 'RuntimeDefault' },
    },
  };
}

function podOf(name: string, rand: () => number, containers: Pod[], initContainers: Pod[]): Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: 'shop', labels: { app: 'web', 'alibabacloud.com/eci': 'true' } },
    spec: {
      securityContext: { sysctls: [{ name: 'net.ipv4.ip_local_port_range', value: '1024 65000' }] },
      ...(initContainers.length ? { initContainers } : {}),
      containers,
      volumes: [{ name: 'config', configMap: { name: `web-config-${Math.floor(rand() * 100)}` } }],
    },
  };
}

/** The typical pod: 2 containers and 1 init container, about 1.2 KB of JSON, compliant. */
export function typicalPod(seed = SEED): Pod {
  const rand = prng(seed);
  return podOf('web-0', rand, [container(rand, 'web', true), container(rand, 'sidecar', false)], [container(rand, 'init-config', false)]);
}

/**
 * The typical pod with violations of every rule set: a privileged container adding SYS_ADMIN,
 * running as root, and a hostPath volume.
 */
export function violatingPod(seed = SEED): Pod {
  const pod = structuredClone(typicalPod(seed)) as { metadata: { name: string }; spec: { containers: { securityContext: Record<string, unknown> }[]; volumes: unknown[] } };
  pod.metadata.name = 'web-violating-0';
  const sc = pod.spec.containers[1]!.securityContext;
  Object.assign(sc, { privileged: true, runAsUser: 0, allowPrivilegeEscalation: true, capabilities: { add: ['SYS_ADMIN'], drop: ['ALL'] } });
  pod.spec.volumes.push({ name: 'host', hostPath: { path: '/var/run' } });
  return pod as unknown as Pod;
}

/** A pod of `n` containers like the typical pod's (no init container). */
export function widePod(n: number, seed = SEED): Pod {
  const rand = prng(seed + n);
  return podOf(`wide-${n}`, rand, Array.from({ length: n }, (_, i) => container(rand, `c${i}`, i === 0)), []);
}

export interface PsaPod {
  readonly id: string;
  readonly expected: 'pass' | 'fail';
  readonly object: Pod;
}

export const PSA_PODS = 40;

/**
 * `count` of the PSA fixtures whose version range includes v1.37 (112 in this snapshot), spread
 * evenly over them in id order (baseline and restricted, pass and fail), so every kyverno apply
 * sees the same mix.
 */
export function psaPods(count = PSA_PODS): PsaPod[] {
  const root = peerFixturesRoot();
  const all = loadSource('pod-security-admission', root)
    .filter((c) => c.entry['includes_newest_version'] === true)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (all.length < count) throw new Error(`only ${all.length} PSA v1.37 fixtures, ${count} wanted`);
  return Array.from({ length: count }, (_, i) => all[Math.floor((i * all.length) / count)]!).map((c) => ({
    id: c.id,
    expected: c.expected,
    object: objectOf(loadResource(c, root)),
  }));
}

export function jsonBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value));
}
