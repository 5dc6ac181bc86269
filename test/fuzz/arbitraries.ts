// Generated pods and pod controllers around the fields the ECI rules read, with the spellings
// and wrong types that matter, plus random noise elsewhere. Used by the differential fuzzer:
// every engine must report the same facts for each generated case.

import fc from 'fast-check';

const maybe = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined, freq: 2 });

const wrongTyped = fc.constantFrom<unknown>('x', 7, 1.5, true, ['x'], { x: 'y' }, null);

const uid = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom(0, 1, 1000, 65534, 2147483647, 2147483648, -1) },
  { weight: 2, arbitrary: fc.integer({ min: -5, max: 3_000_000_000 }) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('0', '1000', 0.5, 1e20, null) },
);

const bool = fc.oneof({ weight: 8, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom<unknown>('true', 'false', 1, null) });

const capability = fc.constantFrom<unknown>(
  'NET_ADMIN',
  'net_admin',
  'Net_Raw',
  'CHOWN',
  'SYS_ADMIN',
  'SYS_RAWIO',
  'sys_rawio',
  'CAP_CHOWN',
  'cap_kill',
  'ALL',
  'all',
  ' KILL',
  'SYS_TIME',
  '',
  5,
  null,
);

const sysctlName = fc.constantFrom<unknown>(
  'net.core.somaxconn',
  'net/core/somaxconn',
  'net.core/somaxconn',
  'net.ipv4.tcp_syncookies',
  'net/ipv4/tcp_syncookies',
  'net.ipv4/tcp_syncookies',
  'NET.ipv4.tcp_syncookies',
  'kernel.shmmax',
  'kernel.sem',
  'kernel.semmni',
  'kernel.msgmax',
  'fs.mqueue.msg_max',
  'fs.file-max',
  'vm.min_free_kbytes',
  'vm/min_free_kbytes',
  'vm.swappiness',
  'net.ipv4.ip_forward.',
  '',
  7,
);

const sysctlValue = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<unknown>('0', '1', '1024', '65536', '209715', '209716', '1048576', '419430') },
  { weight: 2, arbitrary: fc.nat({ max: 3_000_000 }).map((n) => String(n)) },
  { weight: 1, arbitrary: fc.constantFrom<unknown>('-5', 'abc', '1.5', 5, null, '') },
);

const sysctl = fc.oneof(
  { weight: 10, arbitrary: fc.record({ name: sysctlName, value: sysctlValue }, { requiredKeys: ['name'] }) },
  { weight: 1, arbitrary: wrongTyped },
);

const quantity = fc.constantFrom<unknown>('1Gi', '512Mi', '2Gi', '1.5Gi', '0.5Gi', '1000M', '1073741824', '64Ti', '65Ti', '1e3', '1.2345Gi', 'lots', 5, null);

const resources = fc.record(
  {
    limits: maybe(fc.record({ memory: quantity, cpu: fc.constantFrom('1', '500m') }, { requiredKeys: [] })),
    requests: maybe(fc.record({ memory: quantity }, { requiredKeys: [] })),
  },
  { requiredKeys: [] },
);

const containerSecurityContext = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record(
      {
        runAsUser: uid,
        runAsGroup: uid,
        runAsNonRoot: bool,
        privileged: bool,
        readOnlyRootFilesystem: bool,
        procMount: fc.constantFrom<unknown>('Default', 'Unmasked', 'default', 1, null),
        capabilities: fc.oneof(
          { weight: 8, arbitrary: fc.record({ add: fc.oneof({ weight: 8, arbitrary: fc.array(capability, { maxLength: 3 }) }, { weight: 1, arbitrary: wrongTyped }), drop: fc.constant(['ALL']) }, { requiredKeys: [] }) },
          { weight: 1, arbitrary: wrongTyped },
        ),
        allowPrivilegeEscalation: fc.boolean(),
        seccompProfile: fc.constant({ type: 'RuntimeDefault' }),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: wrongTyped },
);

const containerName = fc.constantFrom('app', 'sidecar', 'init', 'debug', 'app', '');

/** Noise: fields no rule reads, so they must change nothing. */
const noise = fc.dictionary(fc.constantFrom('env', 'ports', 'args', 'workingDir', 'x-extra'), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 });

const container = fc
  .record({ name: containerName, securityContext: maybe(containerSecurityContext), resources: maybe(resources), noise })
  .map(({ noise: extra, ...c }) => ({ ...extra, image: 'nginx', ...Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined)) }));

const podSecurityContext = fc.oneof(
  {
    weight: 12,
    arbitrary: fc.record(
      {
        sysctls: fc.oneof({ weight: 10, arbitrary: fc.array(sysctl, { maxLength: 3 }) }, { weight: 1, arbitrary: wrongTyped }),
        runAsUser: uid,
        runAsGroup: uid,
        runAsNonRoot: bool,
        fsGroup: fc.constantFrom(2000, '2000'),
      },
      { requiredKeys: [] },
    ),
  },
  { weight: 1, arbitrary: wrongTyped },
);

const hostSysctls = fc.constantFrom<unknown>(
  '[{"name": "kernel.core_pattern", "value": "core"}]',
  '[{"name":"net.core.somaxconn","value":"1024"},{"value":"1","name":"kernel.sem"}]',
  '[]',
  '[{"name": "kernel.core_pattern"}]',
  '{"name": "x"}',
  'not json',
  '[{"name": "a\\u002eb", "value": "1"}]',
  7,
);

const annotations = fc.record(
  {
    'k8s.aliyun.com/eci-host-sysctls': hostSysctls,
    'k8s.aliyun.com/eci-use-specs': fc.constantFrom<unknown>('2-4Gi', '0.5-1Gi', '1-0.5Gi', 'ecs.c5.large', '2-4Gi,4-8Gi', ''),
  },
  { requiredKeys: [] },
);

/**
 * A pod spec: maybe a security context, one to three containers, maybe init and ephemeral ones,
 * then the `extra` fields; the fields generated as undefined are left out.
 */
export function podSpecOf(securityContext: fc.Arbitrary<unknown>, container: fc.Arbitrary<unknown>, extra: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<Record<string, unknown>> {
  return fc
    .record({
      securityContext: maybe(securityContext),
      containers: fc.array(container, { minLength: 1, maxLength: 3 }),
      initContainers: maybe(fc.array(container, { maxLength: 2 })),
      ephemeralContainers: maybe(fc.array(container, { maxLength: 1 })),
      ...extra,
    })
    .map((spec) => Object.fromEntries(Object.entries(spec).filter(([, v]) => v !== undefined)));
}

const podSpec = podSpecOf(podSecurityContext, container, { hostNetwork: maybe(fc.boolean()) });

const metadata = fc
  .record({
    inScope: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
    annotations: maybe(annotations),
  })
  .map(({ inScope, annotations: a }) => ({
    labels: inScope ? { 'alibabacloud.com/eci': 'true', app: 'fuzz' } : { app: 'fuzz' },
    ...(a ? { annotations: a } : {}),
  }));

export interface FuzzCase {
  readonly input: Record<string, unknown>;
}

/** A Pod, Deployment or CronJob in `namespace` with the pod template `meta` and `spec`. */
export function podResource(kind: 'Pod' | 'Deployment' | 'CronJob', namespace: string, meta: Record<string, unknown>, spec: Record<string, unknown>): Record<string, unknown> {
  const template = { metadata: meta, spec };
  if (kind === 'Pod') return { apiVersion: 'v1', kind, metadata: { name: 'fuzz', namespace, ...meta }, spec };
  if (kind === 'Deployment') return { apiVersion: 'apps/v1', kind, metadata: { name: 'fuzz', namespace }, spec: { selector: { matchLabels: { app: 'fuzz' } }, template } };
  return { apiVersion: 'batch/v1', kind, metadata: { name: 'fuzz', namespace }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template } } } };
}

/** A Pod, Deployment or CronJob wrapping a generated pod template. */
export const fuzzCase: fc.Arbitrary<FuzzCase> = fc
  .record({ kind: fc.constantFrom('Pod', 'Pod', 'Deployment', 'CronJob'), meta: metadata, spec: podSpec, namespace: fc.constantFrom('team-a', 'team-b') })
  .map(({ kind, meta, spec, namespace }) => ({ input: podResource(kind, namespace, meta, spec) }));
