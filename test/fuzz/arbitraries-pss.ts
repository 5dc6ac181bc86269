// Generated pods and pod controllers around the fields the Pod Security Standards controls read
// (the PSS page's "Restricted Fields", v1.37), with the near-miss spellings PSA compares exactly
// (case, slash-form sysctls, "all" for ALL), the values that flip a verdict (the Windows and
// user-namespace exemptions, an empty SELinux type, hostPort 0) and wrong types. Used by the
// differential fuzzer for pss_baseline and pss_restricted: every engine must report the same facts.

import fc from 'fast-check';
import { podResource, podSpecOf, type FuzzCase } from './arbitraries.ts';

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });
/** A record whose keys are each present or not. */
const some = <T extends Record<string, fc.Arbitrary<unknown>>>(fields: T) => fc.record(fields, { requiredKeys: [] });
/** Usually `arb`, sometimes a value of another JSON type or null. */
const orWrong = <T>(arb: fc.Arbitrary<T>, weight = 10) =>
  fc.oneof({ weight, arbitrary: arb as fc.Arbitrary<unknown> }, { weight: 1, arbitrary: fc.constantFrom<unknown>('x', 7, 1.5, true, ['x'], { x: 'y' }, null) });

const bool = orWrong(fc.boolean());
const uid = orWrong(fc.constantFrom<unknown>(0, 1, 1000, 65534, 2147483647, -1, 0.0, 1e20), 8);

const profileType = fc.constantFrom<unknown>('RuntimeDefault', 'Localhost', 'Unconfined', 'runtimedefault', 'localhost', '', 'Other');
const seccompProfile = orWrong(some({ type: orWrong(profileType), localhostProfile: fc.constantFrom('profiles/audit.json', '') }));
const appArmorProfile = orWrong(some({ type: orWrong(profileType), localhostProfile: fc.constantFrom('k8s-apparmor-example', '') }));
const seLinuxOptions = orWrong(
  some({
    type: orWrong(fc.constantFrom('container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t', 'spc_t', 'Container_t', '')),
    user: orWrong(fc.constantFrom('', 'system_u', 'unconfined_u')),
    role: orWrong(fc.constantFrom('', 'system_r', 'object_r')),
    level: fc.constantFrom('s0:c123,c456', ''),
  }),
);
const windowsOptions = orWrong(some({ hostProcess: bool, runAsUserName: fc.constant('ContainerUser') }));

const capability = orWrong(
  fc.constantFrom('NET_BIND_SERVICE', 'net_bind_service', 'CAP_NET_BIND_SERVICE', 'CHOWN', 'AUDIT_WRITE', 'KILL', 'SYS_ADMIN', 'NET_RAW', 'NET_ADMIN', 'ALL', ' CHOWN', ''),
  12,
);
const capabilities = orWrong(
  some({
    add: orWrong(fc.array(capability, { maxLength: 3 })),
    drop: orWrong(fc.oneof({ weight: 6, arbitrary: fc.constant(['ALL']) }, { weight: 3, arbitrary: fc.array(fc.constantFrom<unknown>('ALL', 'all', 'NET_RAW', 'CAP_ALL', 7), { maxLength: 3 }) })),
  }),
);

const containerSecurityContext = orWrong(
  some({
    privileged: bool,
    allowPrivilegeEscalation: bool,
    runAsNonRoot: bool,
    runAsUser: uid,
    capabilities,
    procMount: orWrong(fc.constantFrom('Default', 'Unmasked', 'default', '')),
    seccompProfile,
    appArmorProfile,
    seLinuxOptions,
    windowsOptions,
    readOnlyRootFilesystem: fc.boolean(),
  }),
);

const host = orWrong(fc.constantFrom('', '10.0.0.1', 'localhost', 'example.com'));
const handler = (kinds: readonly string[]) =>
  orWrong(
    fc.constantFrom(...kinds).chain((kind) =>
      kind === 'exec'
        ? fc.constant({ exec: { command: ['true'] } })
        : some({ host, port: fc.constantFrom<unknown>(8080, 'http') }).map((h) => ({ [kind]: h })),
    ),
  );
const probe = handler(['httpGet', 'tcpSocket', 'exec']);
const lifecycle = orWrong(some({ postStart: handler(['httpGet', 'tcpSocket', 'exec']), preStop: handler(['httpGet', 'tcpSocket']) }));

const port = orWrong(some({ containerPort: fc.constantFrom(80, 8080), hostPort: orWrong(fc.constantFrom<unknown>(0, 80, 8080, 65535, -1)), protocol: fc.constant('TCP') }));

const containerName = fc.constantFrom('app', 'sidecar', 'init', 'debug', 'app', '');

/** Noise: fields no control reads, so they must change nothing. */
const noise = fc.dictionary(fc.constantFrom('env', 'args', 'workingDir', 'volumeMounts', 'x-extra'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 });

const container = fc
  .record({
    name: containerName,
    securityContext: maybe(containerSecurityContext),
    ports: maybe(orWrong(fc.array(port, { maxLength: 2 }))),
    livenessProbe: maybe(probe),
    readinessProbe: maybe(probe),
    startupProbe: maybe(probe),
    lifecycle: maybe(lifecycle),
    noise,
  })
  .map(({ noise: extra, ...c }) => ({ ...extra, image: 'nginx', ...Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) }));

const sysctl = orWrong(
  some({
    name: orWrong(
      fc.constantFrom(
        'kernel.shm_rmid_forced',
        'net.ipv4.ip_local_port_range',
        'net.ipv4.ip_unprivileged_port_start',
        'net.ipv4.tcp_syncookies',
        'net/ipv4/tcp_syncookies',
        'net.ipv4.tcp_syncookies.',
        'NET.IPV4.TCP_SYNCOOKIES',
        'net.ipv4.ping_group_range',
        'net.ipv4.tcp_keepalive_time',
        'net.ipv4.tcp_rmem',
        'net.ipv4.tcp_notsent_lowat',
        'net.core.somaxconn',
        'kernel.msgmax',
        '',
      ),
      12,
    ),
    value: fc.constantFrom('1', '0', '1024 65535'),
  }),
);

const podSecurityContext = orWrong(
  some({
    runAsNonRoot: bool,
    runAsUser: uid,
    seccompProfile,
    appArmorProfile,
    seLinuxOptions,
    windowsOptions,
    sysctls: orWrong(fc.array(sysctl, { maxLength: 3 })),
    fsGroup: fc.constant(2000),
  }),
);

const volumeSource = fc.constantFrom<[string, unknown]>(
  ['configMap', { name: 'cm' }],
  ['secret', { secretName: 's' }],
  ['emptyDir', {}],
  ['persistentVolumeClaim', { claimName: 'c' }],
  ['projected', { sources: [] }],
  ['image', { reference: 'busybox' }],
  ['hostPath', { path: '/var/run' }],
  ['hostPath', null],
  ['nfs', { server: 'nfs', path: '/' }],
  ['gitRepo', { repository: 'x' }],
  ['flocker', { datasetName: 'x' }],
  ['HostPath', { path: '/' }],
);
const volume = orWrong(
  fc.record({ name: fc.constantFrom('v', 'data'), sources: fc.array(volumeSource, { maxLength: 2 }) }).map(({ name, sources }) => ({ name, ...Object.fromEntries(sources) })),
  12,
);

const podSpec = podSpecOf(podSecurityContext, container, {
  hostNetwork: maybe(bool),
  hostPID: maybe(bool),
  hostIPC: maybe(bool),
  hostUsers: maybe(bool),
  os: maybe(orWrong(some({ name: orWrong(fc.constantFrom('linux', 'windows', 'Windows', '')) }))),
  volumes: maybe(orWrong(fc.array(volume, { maxLength: 3 }))),
});

// AppArmor annotations (one per container name) and the seccomp annotations PSS v1.37 no longer reads.
const annotations = fc.dictionary(
  fc.constantFrom(
    'container.apparmor.security.beta.kubernetes.io/app',
    'container.apparmor.security.beta.kubernetes.io/sidecar',
    'container.apparmor.security.beta.kubernetes.io/',
    'seccomp.security.alpha.kubernetes.io/pod',
    'example.com/team',
  ),
  orWrong(fc.constantFrom('runtime/default', 'localhost/profile', 'localhost/', 'unconfined', 'Runtime/Default', '')),
  { maxKeys: 2 },
);

type Path = readonly string[];

// Near misses: a pod meeting every Restricted control with one to three faults, each a field
// set to a generated value. A pod that breaks a dozen controls at once hides a single-field
// disagreement behind the others; here one field decides the verdict.
const containerFaults: readonly [Path, fc.Arbitrary<unknown>][] = [
  [['securityContext'], containerSecurityContext],
  ...(['privileged', 'allowPrivilegeEscalation', 'runAsNonRoot'] as const).map((k): [Path, fc.Arbitrary<unknown>] => [['securityContext', k], bool]),
  [['securityContext', 'runAsUser'], uid],
  [['securityContext', 'capabilities'], capabilities],
  [['securityContext', 'capabilities', 'add'], orWrong(fc.array(capability, { minLength: 1, maxLength: 2 }))],
  [['securityContext', 'procMount'], orWrong(fc.constantFrom('Default', 'Unmasked', 'default', ''))],
  [['securityContext', 'seccompProfile'], seccompProfile],
  [['securityContext', 'appArmorProfile'], appArmorProfile],
  [['securityContext', 'seLinuxOptions'], seLinuxOptions],
  [['securityContext', 'windowsOptions'], windowsOptions],
  [['ports'], orWrong(fc.array(port, { minLength: 1, maxLength: 2 }))],
  [['livenessProbe'], probe],
  [['startupProbe'], probe],
  [['lifecycle'], lifecycle],
];
const podFaults: readonly [Path, fc.Arbitrary<unknown>][] = [
  [['securityContext'], podSecurityContext],
  [['securityContext', 'runAsNonRoot'], bool],
  [['securityContext', 'runAsUser'], uid],
  [['securityContext', 'seccompProfile'], seccompProfile],
  [['securityContext', 'appArmorProfile'], appArmorProfile],
  [['securityContext', 'seLinuxOptions'], seLinuxOptions],
  [['securityContext', 'windowsOptions'], windowsOptions],
  [['securityContext', 'sysctls'], orWrong(fc.array(sysctl, { minLength: 1, maxLength: 2 }))],
  ...(['hostNetwork', 'hostPID', 'hostIPC', 'hostUsers'] as const).map((k): [Path, fc.Arbitrary<unknown>] => [[k], bool]),
  [['os'], orWrong(some({ name: orWrong(fc.constantFrom('linux', 'windows', 'Windows', '')) }))],
  [['volumes'], orWrong(fc.array(volume, { minLength: 1, maxLength: 2 }))],
];

interface Fault {
  /** The container list and index the fault is in (modulo the list's length), or the pod. */
  readonly at: { list: 'containers' | 'initContainers' | 'ephemeralContainers'; index: number } | 'pod';
  readonly path: Path;
  readonly value: unknown;
}

const fault: fc.Arbitrary<Fault> = fc.oneof(
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('containers', 'containers', 'initContainers', 'ephemeralContainers'), fc.nat(3), fc.oneof(...containerFaults.map(([path, value]) => value.map((v) => ({ path, value: v })))))
      .map(([list, index, f]) => ({ at: { list, index }, ...f })),
  },
  { weight: 1, arbitrary: fc.oneof(...podFaults.map(([path, value]) => value.map((v) => ({ at: 'pod' as const, path, value: v })))) },
);

/** `value` written at `path` below `node`, creating objects on the way; a non-object on the way keeps the case as it is. */
function setField(node: Record<string, unknown>, path: Path, value: unknown): void {
  const [head, ...rest] = path;
  if (rest.length === 0) {
    node[head!] = value;
    return;
  }
  if (node[head!] === undefined) node[head!] = {};
  const next = node[head!];
  if (typeof next === 'object' && next !== null && !Array.isArray(next)) setField(next as Record<string, unknown>, rest, value);
}

const compliantContainer = (name: string) => ({
  name,
  image: 'nginx',
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
});

const nearMissSpec = fc
  .record({
    containers: fc.array(containerName, { minLength: 1, maxLength: 2 }),
    initContainers: fc.array(containerName, { maxLength: 1 }),
    ephemeralContainers: fc.array(containerName, { maxLength: 1 }),
    faults: fc.array(fault, { minLength: 1, maxLength: 3 }),
  })
  .map(({ faults, ...names }) => {
    const spec: Record<string, unknown> = { securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } };
    for (const [list, ns] of Object.entries(names)) if (ns.length) spec[list] = ns.map(compliantContainer);
    for (const f of faults) {
      if (f.at === 'pod') setField(spec, f.path, structuredClone(f.value));
      else {
        const containers = (spec[f.at.list] ?? spec['containers']) as Record<string, unknown>[];
        setField(containers[f.at.index % containers.length]!, f.path, structuredClone(f.value));
      }
    }
    return spec;
  });

/** A Pod, Deployment or CronJob wrapping a generated pod template: a near miss, or anything. */
export const pssFuzzCase: fc.Arbitrary<FuzzCase> = fc
  .record({
    kind: fc.constantFrom('Pod', 'Pod', 'Deployment', 'CronJob'),
    annotations: maybe(annotations),
    spec: fc.oneof({ weight: 2, arbitrary: nearMissSpec }, { weight: 1, arbitrary: podSpec }),
  })
  .map(({ kind, annotations: a, spec }) => ({ input: podResource(kind, 'team-a', { labels: { app: 'fuzz' }, ...(a ? { annotations: a } : {}) }, spec) }));
