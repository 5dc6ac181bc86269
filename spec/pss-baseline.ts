// Kubernetes Pod Security Standards, Baseline level, at policy version v1.37: the PSS page
// (https://kubernetes.io/docs/concepts/security/pod-security-standards/) for what each control
// is, and Pod Security Admission's checks (kubernetes/pod-security-admission policy/check_*.go,
// as of the v1.37 fixtures in ../shared/peer-fixtures/pod-security-admission/) wherever the
// page is vague: exact-case values, "" as unset, every container list, the v1.37 sysctls.
//
// The rules are named exports: spec/pss-restricted.ts adds the Restricted controls to them.

import {
  all,
  container,
  equals,
  exact,
  hasType,
  item,
  itemField,
  matchesAny,
  not,
  oneOf,
  param,
  pod,
  prefix,
  present,
  rule,
  ruleSet,
  type RuleBuilder,
} from '../src/dsl/index.ts';

export const PSS_VERSION = 'v1.37';
const PSS = 'Pod Security Standards (v1.37), Baseline';

// ---- ownership of shared fields (a wrong type is a deny of the owner, at the field's path) ----
// pod and container securityContext: PSS-HOST-PROCESS (the first control reading both);
// capabilities: PSS-CAPABILITIES-BASELINE; volumes and each volume: PSS-HOST-PATH-VOLUMES;
// hostUsers: PSS-PROC-MOUNT; ports: PSS-HOST-PORTS.

export const hostProcess = rule({
  id: 'PSS-HOST-PROCESS',
  title: 'No Windows HostProcess containers',
  description:
    'windowsOptions.hostProcess is unset or false in the pod securityContext and in every container (containers, initContainers, ephemeralContainers).',
  action: 'deny',
  level: 'container',
  fix: 'Remove windowsOptions.hostProcess or set it to false.',
  rationale: `${PSS}, "HostProcess": Windows containers can run HostProcess containers, which enable privileged access to the Windows host; privileged access to the host is disallowed in the baseline policy. Restricted fields spec.securityContext.windowsOptions.hostProcess and spec.{containers,initContainers,ephemeralContainers}[*].securityContext.windowsOptions.hostProcess; allowed values undefined/nil and false (PSA check windowsHostProcess).`,
})
  .typed('pod-security-context-type', pod.field('securityContext'), 'object', 'pod securityContext must be an object')
  .typed('security-context-type', container.field('securityContext'), 'object', 'container securityContext must be an object')
  .typed('pod-windows-options-type', pod.field('securityContext', 'windowsOptions'), 'object', 'windowsOptions must be an object')
  .typed('windows-options-type', container.field('securityContext', 'windowsOptions'), 'object', 'windowsOptions must be an object')
  .typed('pod-host-process-type', pod.field('securityContext', 'windowsOptions', 'hostProcess'), 'boolean', 'hostProcess must be a boolean')
  .typed('host-process-type', container.field('securityContext', 'windowsOptions', 'hostProcess'), 'boolean', 'hostProcess must be a boolean')
  .check('pod-host-process', pod.field('securityContext', 'windowsOptions', 'hostProcess'), equals(item, true), 'HostProcess pods are not allowed (windowsOptions.hostProcess)')
  .check('host-process', container.field('securityContext', 'windowsOptions', 'hostProcess'), equals(item, true), 'HostProcess containers are not allowed (windowsOptions.hostProcess)');

function hostNamespaceChecks(b: RuleBuilder): RuleBuilder {
  let r = b;
  for (const [field, slug] of [
    ['hostNetwork', 'host-network'],
    ['hostPID', 'host-pid'],
    ['hostIPC', 'host-ipc'],
  ] as const) {
    r = r
      .typed(`${slug}-type`, pod.field(field), 'boolean', `${field} must be a boolean`)
      .check(slug, pod.field(field), equals(item, true), `sharing the host namespaces is not allowed (${field})`);
  }
  return r;
}

export const hostNamespaces = hostNamespaceChecks(
  rule({
    id: 'PSS-HOST-NAMESPACES',
    title: 'No host namespaces',
    description: 'spec.hostNetwork, spec.hostPID and spec.hostIPC are unset or false.',
    action: 'deny',
    level: 'pod',
    fix: 'Remove hostNetwork, hostPID and hostIPC, or set them to false.',
    rationale: `${PSS}, "Host Namespaces": sharing the host namespaces must be disallowed. Restricted fields spec.hostNetwork, spec.hostPID, spec.hostIPC; allowed values undefined/nil and false (PSA check hostNamespaces).`,
  }),
);

export const privileged = rule({
  id: 'PSS-PRIVILEGED',
  title: 'No privileged containers',
  description: 'securityContext.privileged is unset or false in every container.',
  action: 'deny',
  level: 'container',
  fix: 'Remove securityContext.privileged or set it to false.',
  rationale: `${PSS}, "Privileged Containers": privileged pods disable most security mechanisms and must be disallowed. Restricted fields spec.{containers,initContainers,ephemeralContainers}[*].securityContext.privileged; allowed values undefined/nil and false (PSA check privileged).`,
})
  .typed('privileged-type', container.field('securityContext', 'privileged'), 'boolean', 'privileged must be a boolean')
  .check('privileged', container.field('securityContext', 'privileged'), equals(item, true), 'privileged containers are not allowed');

// PSS "Capabilities" (baseline); compared as written, like PSA (no upper-casing, no CAP_ handling).
export const BASELINE_CAPABILITIES = [
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FOWNER',
  'FSETID',
  'KILL',
  'MKNOD',
  'NET_BIND_SERVICE',
  'SETFCAP',
  'SETGID',
  'SETPCAP',
  'SETUID',
  'SYS_CHROOT',
];

export const capabilitiesBaseline = rule({
  id: 'PSS-CAPABILITIES-BASELINE',
  title: 'Only the baseline capabilities may be added',
  description: `Every capabilities.add entry is one of ${BASELINE_CAPABILITIES.join(', ')}, compared exactly (case-sensitive) as PSA does.`,
  action: 'deny',
  level: 'container',
  fix: 'Remove the capability from capabilities.add.',
  rationale: `${PSS}, "Capabilities": adding capabilities beyond the listed set must be disallowed. Restricted fields spec.{containers,initContainers,ephemeralContainers}[*].securityContext.capabilities.add; allowed values undefined/nil and ${BASELINE_CAPABILITIES.join(', ')} (PSA check capabilities_baseline compares the names exactly).`,
})
  .typed('capabilities-type', container.field('securityContext', 'capabilities'), 'object', 'capabilities must be an object')
  .typed('add-type', container.field('securityContext', 'capabilities', 'add'), 'array', 'capabilities.add must be a list')
  .typed('add-entry-type', container.items('securityContext', 'capabilities', 'add'), 'string', 'each capability must be a string')
  .check(
    'not-allowed',
    container.items('securityContext', 'capabilities', 'add'),
    all(hasType(item, 'string'), not(oneOf(item, BASELINE_CAPABILITIES))),
    `capability may not be added at the baseline level (allowed: ${BASELINE_CAPABILITIES.join(', ')})`,
  );

export const hostPathVolumes = rule({
  id: 'PSS-HOST-PATH-VOLUMES',
  title: 'No hostPath volumes',
  description: 'No volume has a hostPath source.',
  action: 'deny',
  level: 'pod',
  fix: 'Replace the hostPath volume with another volume type (emptyDir, configMap, a persistent volume claim).',
  rationale: `${PSS}, "HostPath Volumes": HostPath volumes must be forbidden. Restricted fields spec.volumes[*].hostPath; allowed values undefined/nil (PSA check hostPathVolumes).`,
})
  .typed('volumes-type', pod.field('volumes'), 'array', 'volumes must be a list')
  .typed('volume-type', pod.items('volumes'), 'object', 'each volume must be an object')
  .check('host-path', pod.items('volumes'), all(hasType(item, 'object'), present(itemField('hostPath'))), 'hostPath volumes are not allowed', {
    at: ['hostPath'],
  });

export const hostPorts = rule({
  id: 'PSS-HOST-PORTS',
  title: 'No host ports',
  description: 'Every container port has hostPort unset or 0.',
  action: 'deny',
  level: 'container',
  fix: 'Remove hostPort (use a Service to expose the port).',
  rationale: `${PSS}, "Host Ports": HostPorts should be disallowed entirely (recommended) or restricted to a known list; PSA disallows them entirely. Restricted fields spec.{containers,initContainers,ephemeralContainers}[*].ports[*].hostPort; allowed values undefined/nil and 0 (PSA check hostPorts).`,
})
  .typed('ports-type', container.field('ports'), 'array', 'ports must be a list')
  .typed('port-type', container.items('ports'), 'object', 'each port must be an object')
  .check(
    'host-port-type',
    container.items('ports'),
    all(hasType(item, 'object'), present(itemField('hostPort')), not(hasType(itemField('hostPort'), 'integer'))),
    'hostPort must be an integer',
    { action: 'deny', at: ['hostPort'] },
  )
  .check(
    'host-port',
    container.items('ports'),
    all(hasType(item, 'object'), hasType(itemField('hostPort'), 'integer'), not(equals(itemField('hostPort'), 0))),
    'host ports are not allowed (hostPort must be unset or 0)',
    { at: ['hostPort'] },
  );

// Every handler PSA's hostProbesAndHostLifecycle check reads (v1.34+).
const probeHandlers: readonly (readonly string[])[] = [
  ...['livenessProbe', 'readinessProbe', 'startupProbe'].flatMap((p) => ['httpGet', 'tcpSocket'].map((h) => [p, h])),
  ...['postStart', 'preStop'].flatMap((p) => ['httpGet', 'tcpSocket'].map((h) => ['lifecycle', p, h])),
];

function probeHostChecks(b: RuleBuilder): RuleBuilder {
  let r = b;
  const typedParents = new Set<string>();
  for (const handler of probeHandlers) {
    for (let n = 1; n <= handler.length; n++) {
      const parent = handler.slice(0, n);
      const key = parent.join('.');
      if (typedParents.has(key)) continue;
      typedParents.add(key);
      r = r.typed(`${parent.map(slug).join('-')}-type`, container.field(...parent), 'object', `${key} must be an object`);
    }
    const id = handler.map(slug).join('-');
    const host = container.field(...handler, 'host');
    r = r
      .typed(`${id}-host-type`, host, 'string', `${handler.join('.')}.host must be a string`)
      .check(`${id}-host`, host, all(hasType(item, 'string'), not(equals(item, ''))), `${handler.join('.')}.host must be unset or empty (probes and lifecycle handlers may not target another host)`);
  }
  return r;
}

const SLUGS: Readonly<Record<string, string>> = {
  livenessProbe: 'liveness',
  readinessProbe: 'readiness',
  startupProbe: 'startup',
  lifecycle: 'lifecycle',
  postStart: 'post-start',
  preStop: 'pre-stop',
  httpGet: 'http',
  tcpSocket: 'tcp',
};
const slug = (s: string): string => SLUGS[s] ?? s.toLowerCase();

export const hostProbes = probeHostChecks(
  rule({
    id: 'PSS-HOST-PROBES',
    title: 'No host in probes and lifecycle handlers',
    description:
      'The host field of every httpGet and tcpSocket handler of livenessProbe, readinessProbe, startupProbe and lifecycle.postStart/preStop is unset or empty, in every container.',
    action: 'deny',
    level: 'container',
    fix: 'Remove the host field: the kubelet then probes the pod IP.',
    rationale: `${PSS}, "Probes / Lifecycle Hooks (v1.34+)": the Host field in probes and lifecycle hooks must be disallowed, since it lets the kubelet send requests to other hosts on behalf of the pod. Restricted fields spec.{containers,initContainers,ephemeralContainers}[*].{livenessProbe,readinessProbe,startupProbe}.{httpGet,tcpSocket}.host and .lifecycle.{postStart,preStop}.{httpGet,tcpSocket}.host; allowed values undefined/nil and "" (PSA check hostProbesAndHostLifecycle, policy v1.34+).`,
  }),
);

const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';
const appArmorProfileTypes = ['RuntimeDefault', 'Localhost'];

export const appArmor = rule({
  id: 'PSS-APPARMOR',
  title: 'AppArmor profile not overridden or disabled',
  description:
    'appArmorProfile.type (pod and every container) is RuntimeDefault or Localhost when appArmorProfile is set; every container.apparmor.security.beta.kubernetes.io/* annotation is empty, runtime/default or localhost/*.',
  action: 'deny',
  level: 'container',
  fix: 'Use the RuntimeDefault or a Localhost AppArmor profile (annotation values runtime/default or localhost/<profile>); do not set Unconfined.',
  rationale: `${PSS}, "AppArmor": on supported hosts the RuntimeDefault AppArmor profile is applied by default; the baseline policy should prevent overriding or disabling it, or restrict overrides to an allowed set of profiles. Restricted fields spec.securityContext.appArmorProfile.type, spec.{containers,initContainers,ephemeralContainers}[*].securityContext.appArmorProfile.type (allowed: undefined/nil, RuntimeDefault, Localhost) and metadata.annotations["container.apparmor.security.beta.kubernetes.io/*"] (allowed: undefined/nil, runtime/default, localhost/*). PSA check appArmorProfile also accepts an empty annotation value, and rejects an appArmorProfile whose type is not one of the two.`,
})
  .typed('annotation-type', pod.annotationsWithPrefix(APPARMOR_ANNOTATION_PREFIX), 'string', 'an AppArmor annotation value must be a string')
  .check(
    'annotation',
    pod.annotationsWithPrefix(APPARMOR_ANNOTATION_PREFIX),
    all(hasType(item, 'string'), not(matchesAny(item, [exact(''), exact('runtime/default'), prefix('localhost/')]))),
    'AppArmor profile annotation must be runtime/default or localhost/<profile>',
  )
  .typed('pod-profile-type', pod.field('securityContext', 'appArmorProfile'), 'object', 'appArmorProfile must be an object')
  .typed('profile-type', container.field('securityContext', 'appArmorProfile'), 'object', 'appArmorProfile must be an object')
  .check(
    'pod-profile',
    pod.field('securityContext', 'appArmorProfile'),
    all(hasType(item, 'object'), not(oneOf(itemField('type'), appArmorProfileTypes))),
    'appArmorProfile.type must be RuntimeDefault or Localhost',
    { at: ['type'] },
  )
  .check(
    'profile',
    container.field('securityContext', 'appArmorProfile'),
    all(hasType(item, 'object'), not(oneOf(itemField('type'), appArmorProfileTypes))),
    'appArmorProfile.type must be RuntimeDefault or Localhost',
    { at: ['type'] },
  );

// PSA seLinuxOptions: "" and these types; container_engine_t since policy v1.31.
export const SELINUX_TYPES = ['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t'];

function seLinuxChecks(b: RuleBuilder): RuleBuilder {
  let r = b;
  for (const [level, field] of [
    ['pod', pod.field],
    ['container', container.field],
  ] as const) {
    const p = level === 'pod' ? 'pod-' : '';
    r = r
      .typed(`${p}options-type`, field('securityContext', 'seLinuxOptions'), 'object', 'seLinuxOptions must be an object')
      .typed(`${p}type-type`, field('securityContext', 'seLinuxOptions', 'type'), 'string', 'seLinuxOptions.type must be a string')
      .typed(`${p}user-type`, field('securityContext', 'seLinuxOptions', 'user'), 'string', 'seLinuxOptions.user must be a string')
      .typed(`${p}role-type`, field('securityContext', 'seLinuxOptions', 'role'), 'string', 'seLinuxOptions.role must be a string')
      .check(
        `${p}type`,
        field('securityContext', 'seLinuxOptions', 'type'),
        all(hasType(item, 'string'), not(oneOf(item, SELINUX_TYPES))),
        `seLinuxOptions.type must be empty or one of ${SELINUX_TYPES.slice(1).join(', ')}`,
      )
      .check(`${p}user`, field('securityContext', 'seLinuxOptions', 'user'), all(hasType(item, 'string'), not(equals(item, ''))), 'seLinuxOptions.user may not be set')
      .check(`${p}role`, field('securityContext', 'seLinuxOptions', 'role'), all(hasType(item, 'string'), not(equals(item, ''))), 'seLinuxOptions.role may not be set');
  }
  return r;
}

export const seLinux = seLinuxChecks(
  rule({
    id: 'PSS-SELINUX',
    title: 'SELinux type limited, no custom user or role',
    description: `seLinuxOptions (pod and every container): type empty or one of ${SELINUX_TYPES.slice(1).join(', ')}; user and role empty.`,
    action: 'deny',
    level: 'container',
    fix: 'Remove seLinuxOptions.user and .role, and use an allowed SELinux type (or none).',
    rationale: `${PSS}, "SELinux": setting the SELinux type is restricted, and setting a custom SELinux user or role option is forbidden. Restricted fields spec.securityContext.seLinuxOptions.{type,user,role} and spec.{containers,initContainers,ephemeralContainers}[*].securityContext.seLinuxOptions.{type,user,role}; allowed types undefined/"", container_t, container_init_t, container_kvm_t, container_engine_t (since v1.31); user and role undefined/"" (PSA check seLinuxOptions).`,
  }),
);

const hostUsersFalse = equals(pod.ref('hostUsers'), false);

export const procMount = rule({
  id: 'PSS-PROC-MOUNT',
  title: 'Default /proc mount (unless in a user namespace)',
  description: 'securityContext.procMount is unset or Default in every container, unless the pod sets hostUsers: false (v1.35+).',
  action: 'deny',
  level: 'container',
  fix: 'Remove procMount or set it to Default (or run the pod in a user namespace, hostUsers: false).',
  rationale: `${PSS}, "/proc Mount Type": the default /proc masks are set up to reduce attack surface and should be required. Restricted fields spec.{containers,initContainers,ephemeralContainers}[*].securityContext.procMount; allowed values undefined/nil and Default. From policy v1.35 PSA's procMount check allows every value for a pod in a user namespace (spec.hostUsers: false, KEP-127); "" is not Default.`,
})
  .typed('host-users-type', pod.field('hostUsers'), 'boolean', 'hostUsers must be a boolean')
  .typed('proc-mount-type', container.field('securityContext', 'procMount'), 'string', 'procMount must be a string')
  .check(
    'proc-mount',
    container.field('securityContext', 'procMount'),
    all(hasType(item, 'string'), not(equals(item, 'Default')), not(hostUsersFalse)),
    'procMount must be unset or Default (unless the pod sets hostUsers: false)',
  );

export const SECCOMP_TYPES = ['RuntimeDefault', 'Localhost'];

export const seccompBaseline = rule({
  id: 'PSS-SECCOMP-BASELINE',
  title: 'Seccomp not disabled',
  description: 'seccompProfile (pod and every container), when set, has type RuntimeDefault or Localhost (Unconfined is not allowed).',
  action: 'deny',
  level: 'container',
  fix: 'Set seccompProfile.type to RuntimeDefault or Localhost, or remove seccompProfile.',
  rationale: `${PSS}, "Seccomp": the seccomp profile must not be explicitly set to Unconfined. Restricted fields spec.securityContext.seccompProfile.type and spec.{containers,initContainers,ephemeralContainers}[*].securityContext.seccompProfile.type; allowed values undefined/nil, RuntimeDefault, Localhost (PSA check seccompProfile_baseline, policy v1.19+: a set seccompProfile must have one of the two types).`,
})
  .typed('pod-profile-type', pod.field('securityContext', 'seccompProfile'), 'object', 'seccompProfile must be an object')
  .typed('profile-type', container.field('securityContext', 'seccompProfile'), 'object', 'seccompProfile must be an object')
  .check(
    'pod-profile',
    pod.field('securityContext', 'seccompProfile'),
    all(hasType(item, 'object'), not(oneOf(itemField('type'), SECCOMP_TYPES))),
    'seccompProfile.type must be RuntimeDefault or Localhost',
    { at: ['type'] },
  )
  .check(
    'profile',
    container.field('securityContext', 'seccompProfile'),
    all(hasType(item, 'object'), not(oneOf(itemField('type'), SECCOMP_TYPES))),
    'seccompProfile.type must be RuntimeDefault or Localhost',
    { at: ['type'] },
  );

// PSA sysctls at policy v1.37 (1.0, + 1.27, + 1.29, + 1.32, + 1.37), compared exactly.
export const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
  'net.ipv4.tcp_slow_start_after_idle',
  'net.ipv4.tcp_notsent_lowat',
];

const sysctls = pod.items('securityContext', 'sysctls');

export const sysctlsRule = rule({
  id: 'PSS-SYSCTLS',
  title: 'Only safe sysctls',
  description: `Every pod sysctl name is one of ${SAFE_SYSCTLS.join(', ')} (exact names, as PSA v1.37 compares them).`,
  action: 'deny',
  level: 'pod',
  fix: 'Remove the sysctl.',
  rationale: `${PSS}, "Sysctls": sysctls can disable security mechanisms or affect all containers on a host, and should be disallowed except for an allowed "safe" subset: a sysctl is safe if it is namespaced in the container or the pod and isolated from other pods or processes on the same node. Restricted field spec.securityContext.sysctls[*].name; allowed values at v1.37 (PSA check sysctls): ${SAFE_SYSCTLS.join(', ')}.`,
})
  .typed('sysctls-type', pod.field('securityContext', 'sysctls'), 'array', 'securityContext.sysctls must be a list')
  .typed('sysctl-entry-type', sysctls, 'object', 'each sysctl must be an object with name and value')
  .check('sysctl-name-type', sysctls, all(hasType(item, 'object'), not(hasType(itemField('name'), 'string'))), 'sysctl name must be a string', {
    action: 'deny',
    at: ['name'],
  })
  .check(
    'sysctl-not-safe',
    sysctls,
    all(hasType(item, 'object'), hasType(itemField('name'), 'string'), not(oneOf(itemField('name'), SAFE_SYSCTLS))),
    'sysctl is not in the safe set of the Pod Security Standards',
    { at: ['name'] },
  );

export const inputRule = {
  id: 'PSS-INPUT',
  title: 'Resource can be read as a pod or pod controller',
  rationale:
    'A policy that passes what it cannot read lets malformed manifests through: a document that is not an object, a pod spec or container that is not an object, or an unknown kind is reported, not ignored (the same fail-closed reading as the ECI set; PSA itself only sees pods the API server has decoded).',
};

export const baselineRules: readonly RuleBuilder[] = [
  hostProcess,
  hostNamespaces,
  privileged,
  capabilitiesBaseline,
  hostPathVolumes,
  hostPorts,
  hostProbes,
  appArmor,
  seLinux,
  procMount,
  seccompBaseline,
  sysctlsRule,
];

export const selector = param.labelSelector('selector', 'Pods (or pod templates) whose labels match are checked; empty matchLabels: every pod.');

export default baselineRules.reduce(
  (rs, r) => rs.rule(r),
  ruleSet({
    name: 'pss_baseline',
    title: `Kubernetes Pod Security Standards: Baseline (${PSS_VERSION})`,
    version: '1.37.0',
    inputRule,
    selector,
  }),
);
