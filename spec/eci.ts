// The ECI security-context rule set (../shared/ECI-RULES.md is the contract; sources in
// ../shared/seeds/). Everything ECI-specific lives here, as data.

import {
  absent,
  all,
  annotationQuantity,
  atMost,
  container,
  containerQuantitySum,
  effective,
  equals,
  exact,
  firstDefined,
  hasType,
  inParamList,
  intRange,
  intString,
  item,
  itemField,
  jsonObjectArray,
  matchesAny,
  namespaceApproved,
  not,
  numberDefined,
  oneOf,
  param,
  patterns,
  pod,
  prefix,
  present,
  quantity,
  regex,
  rule,
  ruleSet,
  someItem,
  type RuleBuilder,
} from '../src/dsl/index.ts';

const HOST_SYSCTLS_ANNOTATION = 'k8s.aliyun.com/eci-host-sysctls';
const SPECS_ANNOTATION = 'k8s.aliyun.com/eci-use-specs';
const MAX_ID = 2147483647;

// seed 000: "kernel.shm* kernel.msg* kernel.sem fs.mqueue.* net.* (except net.ipv4.tcp_syncookies) vm.min_free_kbytes"
const sysctlAllowlist = patterns('kernel.shm*', 'kernel.msg*', 'kernel.sem', 'fs.mqueue.*', 'net.*', 'vm.min_free_kbytes');
const sysctlDenylist = patterns('net.ipv4.tcp_syncookies');

// seed 000, "Configurable capabilities"; SYS_RAWIO needs a ticket (parameter sysRawioApproved).
const capabilityAllowlist = [
  'AUDIT_WRITE',
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'KILL',
  'MKNOD',
  'NET_ADMIN',
  'NET_BIND_SERVICE',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'SYS_CHROOT',
  'SYS_PTRACE',
];

// seed 000: pod level supports sysctls and runAsUser; container level the seven fields below
// (procMount and readOnlyRootFilesystem have fixed values, checked by ECI-CTR-006/007).
const podSecurityContextSupported = ['sysctls', 'runAsUser'];
const containerSecurityContextSupported = [
  'runAsUser',
  'runAsGroup',
  'runAsNonRoot',
  'privileged',
  'capabilities',
  'readOnlyRootFilesystem',
  'procMount',
];

const sysctls = pod.items('securityContext', 'sysctls');
const sysctlName = itemField('name');
const isMinFreeKbytes = all(
  hasType(item, 'object'),
  matchesAny(sysctlName, [exact('vm.min_free_kbytes')], { transform: 'sysctlName' }),
);
const nonNegativeInteger = '^[0-9]+$';
// The API server's sysctl name syntax (k8s.io/kubernetes pkg/apis/core/validation,
// IsValidSysctlName: SysctlContainSlashFmt, at most 253 characters). A name outside it cannot
// be set, and would only slip past the allowlist by spelling (a trailing dot, upper case).
const sysctlNameSyntax = '^([a-z0-9]([-_a-z0-9]*[a-z0-9])?[./])*[a-z0-9]([-_a-z0-9]*[a-z0-9])?$';
const validSysctlName = all(hasType(sysctlName, 'string'), regex(sysctlName, sysctlNameSyntax), not(regex(sysctlName, '^.{254}')));

// ECI-POD-002's memory basis: one `<cpu>-<mem>Gi` spec, else the containers' limits (or requests).
const specsMemory = annotationQuantity(SPECS_ANNOTATION, {
  pattern: '^[0-9]+(\\.[0-9]+)?-[0-9]+(\\.[0-9]+)?Gi$',
  separator: '-',
  part: 1,
});
const memoryLimit = ['resources', 'limits', 'memory'];
const memoryRequest = ['resources', 'requests', 'memory'];
const memoryBasis = firstDefined(specsMemory, containerQuantitySum('containers', [memoryLimit, memoryRequest]));
const podSetsMinFreeKbytes = someItem(pod.ref('securityContext', 'sysctls'), isMinFreeKbytes);
const basisFromContainers = all(podSetsMinFreeKbytes, not(numberDefined(specsMemory)));

const pod001 = rule({
  id: 'ECI-POD-001',
  title: 'Only sysctls that ECI supports',
  description:
    'Every pod-level sysctl matches kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, net.* or vm.min_free_kbytes, and is not net.ipv4.tcp_syncookies. Slash-form names are normalised as kubelet does.',
  action: 'deny',
  level: 'pod',
  fix: 'Remove the sysctl, or request it as a host sysctl through a ticket (annotation k8s.aliyun.com/eci-host-sysctls).',
  rationale:
    'ECI lets a pod set only namespaced sysctls, which affect just its own network or IPC namespace; any other kernel parameter is host-level, and setting it wrongly can destabilise the operating system (seed 000, "Supported sysctl parameters"; net.ipv4.tcp_syncookies is excepted there). Names are compared as the runtime writes them, so a slash or mixed spelling cannot slip past the list (ECI-RULES.md ECI-POD-001).',
})
  .typed('sysctls-type', pod.field('securityContext', 'sysctls'), 'array', 'securityContext.sysctls must be a list')
  .typed('sysctl-entry-type', sysctls, 'object', 'each sysctl must be an object with name and value')
  .check('sysctl-name-type', sysctls, all(hasType(item, 'object'), not(hasType(sysctlName, 'string'))), 'sysctl name must be a string', {
    action: 'deny',
    at: ['name'],
  })
  .check(
    'sysctl-value-type',
    sysctls,
    all(
      hasType(item, 'object'),
      present(itemField('value')),
      not(hasType(itemField('value'), 'string')),
      not(isMinFreeKbytes),
    ),
    'sysctl value must be a string',
    { action: 'deny', at: ['value'] },
  )
  .check(
    'sysctl-name-invalid',
    sysctls,
    all(hasType(item, 'object'), hasType(sysctlName, 'string'), not(validSysctlName)),
    'sysctl name is not a valid Kubernetes sysctl name (lower-case segments separated by . or /, at most 253 characters)',
    { at: ['name'] },
  )
  .check(
    'sysctl-not-supported',
    sysctls,
    all(
      hasType(item, 'object'),
      validSysctlName,
      not(
        all(
          matchesAny(sysctlName, sysctlAllowlist, { transform: 'sysctlName' }),
          not(matchesAny(sysctlName, sysctlDenylist, { transform: 'sysctlName' })),
        ),
      ),
    ),
    'sysctl is not supported by ECI (allowed: kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*, net.* except net.ipv4.tcp_syncookies, vm.min_free_kbytes)',
    { at: ['name'] },
  );

const pod002 = rule({
  id: 'ECI-POD-002',
  title: 'vm.min_free_kbytes at most 20% of pod memory',
  description:
    "vm.min_free_kbytes, when set, is a non-negative integer (KiB) with value × 1024 ≤ 20% of the pod memory: the eci-use-specs annotation when it is one <cpu>-<mem>Gi, else the sum of the containers' memory limits (requests where no limit).",
  action: 'deny',
  level: 'pod',
  fix: 'Lower vm.min_free_kbytes to at most 20% of the pod memory, or give the containers memory limits.',
  rationale:
    `The kernel keeps vm.min_free_kbytes of memory free for itself, and ECI asks for "no more than 20% of total memory" (seed 000, "Supported sysctl parameters"); a larger reserve leaves the pod's own processes short. The memory basis is what admission can see (the eci-use-specs annotation, else the containers' memory), so without one the limit cannot be verified and this is a warning (ECI-RULES.md ECI-POD-002).`,
})
  .check(
    'value-not-integer',
    sysctls,
    all(isMinFreeKbytes, not(regex(itemField('value'), nonNegativeInteger))),
    'vm.min_free_kbytes must be a string holding a non-negative integer',
    { action: 'deny', at: ['value'] },
  )
  .check(
    'limit-quantity',
    container.fieldIn(['containers'], ...memoryLimit),
    all(basisFromContainers, not(quantity(item))),
    'memory limit is not a quantity this policy can compare (decimal with up to 3 fraction digits and Ki|Mi|Gi|Ti|k|M|G|T)',
    { action: 'deny' },
  )
  .check(
    'request-quantity',
    container.fieldIn(['containers'], ...memoryRequest),
    all(basisFromContainers, absent(container.ref(...memoryLimit)), not(quantity(item))),
    'memory request is not a quantity this policy can compare (decimal with up to 3 fraction digits and Ki|Mi|Gi|Ti|k|M|G|T)',
    { action: 'deny' },
  )
  .check(
    'exceeds-20-percent',
    sysctls,
    all(
      isMinFreeKbytes,
      regex(itemField('value'), nonNegativeInteger),
      numberDefined(memoryBasis),
      // value KiB × 1024 ≤ 0.2 × basis bytes  ⇔  value × 1024 × 5 ≤ basis
      not(atMost(intString(itemField('value')), 1024 * 5, memoryBasis, 1)),
    ),
    'vm.min_free_kbytes exceeds 20% of the pod memory',
    { at: ['value'] },
  )
  .check(
    'no-memory-basis',
    sysctls,
    all(
      isMinFreeKbytes,
      regex(itemField('value'), nonNegativeInteger),
      not(numberDefined(specsMemory)),
      not(
        someItem(
          pod.ref('containers'),
          all(hasType(item, 'object'), present(itemField(...memoryLimit))),
        ),
      ),
      not(someItem(pod.ref('containers'), all(hasType(item, 'object'), present(itemField(...memoryRequest))))),
    ),
    'vm.min_free_kbytes cannot be verified: no eci-use-specs <cpu>-<mem>Gi and no container memory limit or request',
    { action: 'warn', at: ['value'] },
  );

const pod003 = rule({
  id: 'ECI-POD-003',
  title: 'Host sysctls only with an approved ticket',
  description: `Annotation ${HOST_SYSCTLS_ANNOTATION}, when present, is a JSON array of {"name","value"} objects whose names are all in approvedHostSysctls.`,
  action: 'deny',
  level: 'pod',
  fix: 'Request the host sysctl through a ticket and add its name to approvedHostSysctls once approved.',
  rationale:
    'Sysctls beyond the namespaced list are host-level: ECI applies them only after Alibaba Cloud approves a ticket, through the k8s.aliyun.com/eci-host-sysctls annotation (seed 000, "To modify host-level sysctl parameters beyond the list above, submit a ticket"). approvedHostSysctls records the approved names, so an unapproved name, or an annotation that cannot be read, is refused at admission (ECI-RULES.md ECI-POD-003).',
})
  .check(
    'annotation-malformed',
    pod.annotation(HOST_SYSCTLS_ANNOTATION),
    not(jsonObjectArray(item, ['name', 'value'])),
    'annotation must be a JSON array of {"name": "...", "value": "..."} objects (strings without escapes)',
    { action: 'deny' },
  )
  .check(
    'host-sysctl-not-approved',
    pod.annotationJsonItems(HOST_SYSCTLS_ANNOTATION, 'name'),
    all(
      jsonObjectArray(pod.annotationRef(HOST_SYSCTLS_ANNOTATION), ['name', 'value']),
      not(inParamList(item, 'approvedHostSysctls', { transform: 'sysctlName' })),
    ),
    'host sysctl is not approved (approvedHostSysctls)',
  );

const pod004 = rule({
  id: 'ECI-POD-004',
  title: 'Pod securityContext fields ECI does not honour',
  description: 'ECI honours only sysctls and runAsUser in the pod securityContext; other fields are reported as not honoured.',
  action: 'warn',
  level: 'pod',
  fix: 'Move the setting to each container securityContext where ECI supports it, or remove it.',
  rationale:
    'ECI supports only sysctls and runAsUser in the pod security context (seed 000, the table of security-context levels). Other fields, such as fsGroup or runAsNonRoot, are accepted by the API server but not honoured, so the pod would run with other settings than its manifest says; a warning, since it still runs (ECI-RULES.md ECI-POD-004).',
})
  .typed('security-context-type', pod.field('securityContext'), 'object', 'pod securityContext must be an object')
  .check(
    'field-not-honoured',
    pod.keys(['securityContext'], { except: podSecurityContextSupported }),
    present(item),
    'pod securityContext field is not honoured by ECI (supported: sysctls, runAsUser)',
  );

const ctr001 = rule({
  id: 'ECI-CTR-001',
  title: 'Only capabilities that ECI allows',
  description:
    "Every capabilities.add entry, upper-cased, is on ECI's allowlist; SYS_RAWIO only where sysRawioApproved allows it. A CAP_ prefix and ALL are violations.",
  action: 'deny',
  level: 'container',
  fix: 'Remove the capability; write names without CAP_; SYS_RAWIO needs a ticket.',
  rationale:
    'ECI grants only the listed Linux capabilities through capabilities.add, and SYS_RAWIO only by ticket (seed 000, "Configurable capabilities"). Kubernetes writes capability names without the CAP_ prefix (seed 004: CAP_SYS_TIME is added as SYS_TIME) and runtimes upper-case them, so a CAP_ name or ALL is either a mistake or a way around the allowlist (ECI-RULES.md ECI-CTR-001).',
})
  .typed('capabilities-type', container.field('securityContext', 'capabilities'), 'object', 'capabilities must be an object')
  .typed('add-type', container.field('securityContext', 'capabilities', 'add'), 'array', 'capabilities.add must be a list')
  .typed('add-entry-type', container.items('securityContext', 'capabilities', 'add'), 'string', 'each capability must be a string')
  .check(
    'cap-prefix',
    container.items('securityContext', 'capabilities', 'add'),
    all(hasType(item, 'string'), matchesAny(item, [prefix('CAP_')], { transform: 'upper' })),
    'capability names are written without the CAP_ prefix (e.g. NET_ADMIN, not CAP_NET_ADMIN)',
  )
  .check(
    'all',
    container.items('securityContext', 'capabilities', 'add'),
    all(hasType(item, 'string'), oneOf(item, ['ALL'], { transform: 'upper' })),
    'ALL grants every capability; ECI allows only the listed ones',
  )
  .check(
    'sys-rawio-not-approved',
    container.items('securityContext', 'capabilities', 'add'),
    all(hasType(item, 'string'), oneOf(item, ['SYS_RAWIO'], { transform: 'upper' }), not(namespaceApproved('sysRawioApproved'))),
    'SYS_RAWIO needs an approved ticket (sysRawioApproved)',
  )
  .check(
    'not-allowed',
    container.items('securityContext', 'capabilities', 'add'),
    all(
      hasType(item, 'string'),
      not(oneOf(item, [...capabilityAllowlist, 'SYS_RAWIO', 'ALL'], { transform: 'upper' })),
      not(matchesAny(item, [prefix('CAP_')], { transform: 'upper' })),
    ),
    `capability is not allowed on ECI (allowed: ${capabilityAllowlist.join(', ')}; SYS_RAWIO with a ticket)`,
  );

const ctr002 = rule({
  id: 'ECI-CTR-002',
  title: 'Privileged only with an approved ticket',
  description: 'privileged: true only where privilegedApproved allows it (internal preview, ticket).',
  action: 'deny',
  level: 'container',
  fix: 'Remove privileged: true, or request privileged mode through a ticket (privilegedApproved).',
  rationale:
    'A privileged container runs with the privileges of a host process; on ECI privileged mode is in internal preview and enabled by ticket only (seed 000, container security context: privileged). privilegedApproved records the namespaces with an approved ticket (ECI-RULES.md ECI-CTR-002).',
})
  .typed('privileged-type', container.field('securityContext', 'privileged'), 'boolean', 'privileged must be a boolean')
  .check(
    'privileged-not-approved',
    container.field('securityContext', 'privileged'),
    all(equals(item, true), not(namespaceApproved('privilegedApproved'))),
    'privileged containers need an approved ticket (privilegedApproved)',
  );

const ctr003 = rule({
  id: 'ECI-CTR-003',
  title: 'runAsNonRoot with runAsUser 0',
  description: "kubelet's verifyRunAsNonRoot: effective runAsNonRoot true with effective runAsUser 0 cannot start.",
  action: 'deny',
  level: 'container',
  fix: 'Set runAsUser to a non-zero UID, or drop runAsNonRoot.',
  rationale:
    `kubelet refuses to start a container whose effective runAsNonRoot is true and whose effective runAsUser is 0 ("container's runAsUser breaks non-root policy", verifyRunAsNonRoot; container fields override the pod's, DetermineEffectiveSecurityContext: seed 004). The combination is visible at admission; admitted, the pod would never start (CreateContainerConfigError, seed 004; ECI-RULES.md ECI-CTR-003).`,
})
  .typed('run-as-non-root-type-pod', pod.field('securityContext', 'runAsNonRoot'), 'boolean', 'runAsNonRoot must be a boolean')
  .typed('run-as-non-root-type', container.field('securityContext', 'runAsNonRoot'), 'boolean', 'runAsNonRoot must be a boolean')
  .check(
    'root-user',
    container.effective('runAsUser'),
    all(intRange(item, 0, 0), equals(effective('runAsNonRoot'), true)),
    "container's runAsUser breaks non-root policy: runAsNonRoot is true and runAsUser is 0",
  );

const ctr004 = rule({
  id: 'ECI-CTR-004',
  title: 'runAsNonRoot without runAsUser',
  description: 'Effective runAsNonRoot true with no effective runAsUser: the image user decides at run time, which admission cannot see.',
  action: 'warn',
  level: 'container',
  fix: 'Set runAsUser to a non-zero UID so the check does not depend on the image.',
  rationale:
    "With runAsNonRoot true and no runAsUser, kubelet checks the image's user when the container starts and refuses root or a non-numeric user (seed 004, verifyRunAsNonRoot). Admission cannot see the image, so the pod may be admitted and then fail to start: a warning (ECI-RULES.md ECI-CTR-004).",
}).check(
  'image-user',
  container.effective('runAsNonRoot'),
  all(equals(item, true), absent(effective('runAsUser'))),
  'runAsNonRoot is true but runAsUser is not set: the image decides whether the container can start',
);

function idRangeChecks(builder: RuleBuilder): RuleBuilder {
  let b = builder;
  for (const [field, slug] of [
    ['runAsUser', 'run-as-user'],
    ['runAsGroup', 'run-as-group'],
  ] as const) {
    for (const [level, subject] of [
      ['pod', pod.field('securityContext', field)],
      ['container', container.field('securityContext', field)],
    ] as const) {
      b = b
        .typed(`${slug}-type-${level}`, subject, 'integer', `${field} must be an integer`)
        .check(
          `${slug}-range-${level}`,
          subject,
          all(hasType(item, 'integer'), not(intRange(item, 0, MAX_ID))),
          `${field} must be between 0 and ${MAX_ID}`,
        );
    }
  }
  return b;
}

const ctr005 = idRangeChecks(
  rule({
    id: 'ECI-CTR-005',
    title: 'runAsUser and runAsGroup in range',
    description: `runAsUser and runAsGroup, at either level, are integers in 0..${MAX_ID}.`,
    action: 'deny',
    level: 'container',
    fix: `Use an integer UID/GID between 0 and ${MAX_ID}.`,
    rationale: `runAsUser and runAsGroup are the UID and GID the container's processes run as (seed 000, container security context; seed 004, discretionary access control by UID and GID). A value that is not an integer in 0..${MAX_ID} is not an ID the container can run as, so it is refused at admission rather than left to the API server or the runtime (ECI-RULES.md ECI-CTR-005).`,
  }),
);

const ctr006 = rule({
  id: 'ECI-CTR-006',
  title: 'procMount Default only',
  description: 'ECI fixes DefaultProcMount; any other procMount is a violation.',
  action: 'deny',
  level: 'container',
  fix: 'Remove procMount or set it to Default.',
  rationale:
    'ECI fixes allowedProcMountTypes at DefaultProcMount, and it cannot be changed (seed 000, fixed defaults). kubelet turns procMount into the masked and read-only /proc paths of the container (seed 004), so another procMount (Unmasked) asks for a /proc that ECI does not provide (ECI-RULES.md ECI-CTR-006).',
})
  .typed('proc-mount-type', container.field('securityContext', 'procMount'), 'string', 'procMount must be a string')
  .check(
    'proc-mount',
    container.field('securityContext', 'procMount'),
    all(hasType(item, 'string'), not(equals(item, 'Default'))),
    'ECI supports only procMount Default',
  );

const ctr007 = rule({
  id: 'ECI-CTR-007',
  title: 'readOnlyRootFilesystem false is not honoured',
  description: "ECI's root filesystem is always read-only; readOnlyRootFilesystem: false is not honoured.",
  action: 'warn',
  level: 'container',
  fix: 'Remove readOnlyRootFilesystem: false and write to a volume instead.',
  rationale:
    "ECI's root filesystem is always read-only (seed 000, fixed defaults: readOnlyRootFilesystem true). readOnlyRootFilesystem: false is not honoured, so a container that expects to write to its root filesystem will fail at run time; a warning, since the pod still runs (ECI-RULES.md ECI-CTR-007).",
})
  .typed('read-only-type', container.field('securityContext', 'readOnlyRootFilesystem'), 'boolean', 'readOnlyRootFilesystem must be a boolean')
  .check(
    'writable-root',
    container.field('securityContext', 'readOnlyRootFilesystem'),
    equals(item, false),
    'readOnlyRootFilesystem: false is not honoured: the root filesystem on ECI is always read-only',
  );

const ctr008 = rule({
  id: 'ECI-CTR-008',
  title: 'Container securityContext fields ECI does not honour',
  description: `ECI honours only ${containerSecurityContextSupported.join(', ')} in a container securityContext.`,
  action: 'warn',
  level: 'container',
  fix: 'Remove the field; ECI ignores it.',
  rationale:
    'ECI supports only runAsUser, runAsGroup, runAsNonRoot, privileged and capabilities in a container security context, with procMount and readOnlyRootFilesystem fixed (seed 000). Other fields, such as allowPrivilegeEscalation or seccompProfile, are not honoured, so the container runs without the setting its manifest asks for; a warning (ECI-RULES.md ECI-CTR-008).',
})
  .typed('security-context-type', container.field('securityContext'), 'object', 'container securityContext must be an object')
  .check(
    'field-not-honoured',
    container.keys(['securityContext'], { except: containerSecurityContextSupported }),
    present(item),
    `container securityContext field is not honoured by ECI (supported: ${containerSecurityContextSupported.join(', ')})`,
  );

export default ruleSet({
  name: 'eci',
  title: 'Alibaba Cloud ECI pod security context',
  version: '0.1.0',
  inputRule: {
    id: 'ECI-INPUT-001',
    title: 'Resource can be read as a pod or pod controller',
    rationale:
      'A policy that passes what it cannot read lets malformed manifests through: the catalogue requires failing closed, and an unknown kind or a document that is not an object is reported, not ignored (ECI-RULES.md, "Malformed input fails closed").',
  },
  selector: param.labelSelector('selector', 'Pods (or pod templates) whose labels match run on ECI and are checked.'),
})
  .param(param.stringList('approvedHostSysctls', 'Host-level sysctl names approved by ticket (ECI-POD-003).'))
  .param(param.namespaceApproval('privilegedApproved', 'false, or the namespaces approved for privileged containers (ECI-CTR-002).'))
  .param(param.namespaceApproval('sysRawioApproved', 'false, or the namespaces approved for SYS_RAWIO (ECI-CTR-001).'))
  .rule(pod001)
  .rule(pod002)
  .rule(pod003)
  .rule(pod004)
  .rule(ctr001)
  .rule(ctr002)
  .rule(ctr003)
  .rule(ctr004)
  .rule(ctr005)
  .rule(ctr006)
  .rule(ctr007)
  .rule(ctr008);
