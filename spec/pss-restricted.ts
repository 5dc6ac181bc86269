// Kubernetes Pod Security Standards, Restricted level, at policy version v1.37: every Baseline
// rule (spec/pss-baseline.ts) plus the Restricted controls of the PSS page
// (https://kubernetes.io/docs/concepts/security/pod-security-standards/), with Pod Security
// Admission's v1.37 semantics (kubernetes/pod-security-admission policy/check_*.go): Windows
// pods (spec.os.name: windows) are exempt from the privilege-escalation, seccomp and
// capabilities controls (policy v1.25+), and pods in a user namespace (hostUsers: false) from
// runAsNonRoot and runAsUser (policy v1.35+).

import { absent, all, any, container, equals, hasType, intRange, item, itemField, not, oneOf, pod, present, rule, ruleSet, someItem, wrongType } from '../src/dsl/index.ts';
import type { Ref } from '../src/ir/types.ts';
import { baselineRules, inputRule, PSS_VERSION, SECCOMP_TYPES, selector } from './pss-baseline.ts';

const PSS = 'Pod Security Standards (v1.37), Restricted';

/** PSA exempts Windows pods from some Restricted controls (policy v1.25+). */
const notWindows = not(equals(pod.ref('os', 'name'), 'windows'));
/** PSA relaxes runAsNonRoot and runAsUser for pods in a user namespace (policy v1.35+, KEP-127). */
const notUserNamespace = not(equals(pod.ref('hostUsers'), false));

// A control that requires a field reports it missing only when it can be read: under an object of
// the wrong type on the way (a securityContext that is a list, say) the field is set but unknown,
// and the wrong-typed object is its owner's deny alone (the ECI catalogue's reading of malformed
// input, applied to every rule set; README "Wrong types fail closed").
const readable = (ref: (...path: string[]) => Ref, ...path: string[]) => all(...path.map((_, i) => not(wrongType(ref(...path.slice(0, i + 1)), 'object'))));
const containerReadable = (...path: string[]) => readable(container.ref, ...path);
const podReadable = (...path: string[]) => readable(pod.ref, ...path);

// PSA restrictedVolumes (the PSS page's list plus image, allowed since Kubernetes 1.33). A volume
// with no source is defaulted to emptyDir by the API server, so only the source keys count.
export const ALLOWED_VOLUME_SOURCES = ['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'image', 'persistentVolumeClaim', 'projected', 'secret'];

export const volumeTypes = rule({
  id: 'PSS-VOLUME-TYPES',
  title: 'Only the restricted volume types',
  description: `Every volume's source is one of ${ALLOWED_VOLUME_SOURCES.join(', ')}; each other source key is a violation.`,
  action: 'deny',
  level: 'pod',
  fix: 'Use a configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected or secret volume.',
  rationale: `${PSS}, "Volume Types": the restricted policy only permits specific volume types. Restricted fields spec.volumes[*]; allowed: every item sets one of configMap, csi, downwardAPI, emptyDir, ephemeral, persistentVolumeClaim, projected, secret (PSA check restrictedVolumes also allows image, since Kubernetes 1.33). Each other source key (hostPath, nfs, iscsi, ...) is reported; the volume list's types are owned by PSS-HOST-PATH-VOLUMES.`,
}).check(
  'volume-type',
  pod.itemKeys(['volumes'], { except: ['name', ...ALLOWED_VOLUME_SOURCES] }),
  present(item),
  `volume type is not allowed at the restricted level (allowed: ${ALLOWED_VOLUME_SOURCES.join(', ')})`,
);

export const privilegeEscalation = rule({
  id: 'PSS-PRIVILEGE-ESCALATION',
  title: 'allowPrivilegeEscalation false',
  description: 'Every container sets securityContext.allowPrivilegeEscalation: false (Windows pods, spec.os.name windows, are exempt).',
  action: 'deny',
  level: 'container',
  fix: 'Set securityContext.allowPrivilegeEscalation: false in every container.',
  rationale: `${PSS}, "Privilege Escalation (v1.8+)": privilege escalation (such as via set-user-ID or set-group-ID file mode) should not be allowed; this is a Linux only policy in v1.25+ (spec.os.name != windows). Restricted fields spec.{containers,initContainers,ephemeralContainers}[*].securityContext.allowPrivilegeEscalation; allowed value false (PSA check allowPrivilegeEscalation: unset is a violation).`,
})
  .typed('os-type', pod.field('os'), 'object', 'spec.os must be an object')
  .typed('os-name-type', pod.field('os', 'name'), 'string', 'spec.os.name must be a string')
  .typed('allow-privilege-escalation-type', container.field('securityContext', 'allowPrivilegeEscalation'), 'boolean', 'allowPrivilegeEscalation must be a boolean')
  .check(
    'allow-privilege-escalation',
    container.itself(),
    all(
      notWindows,
      containerReadable('securityContext'),
      any(absent(container.ref('securityContext', 'allowPrivilegeEscalation')), equals(container.ref('securityContext', 'allowPrivilegeEscalation'), true)),
    ),
    'allowPrivilegeEscalation must be set to false',
    { at: ['securityContext', 'allowPrivilegeEscalation'] },
  );

export const runAsNonRoot = rule({
  id: 'PSS-RUN-AS-NON-ROOT',
  title: 'runAsNonRoot true',
  description:
    'runAsNonRoot is true at pod level or in every container, and false nowhere (pods in a user namespace, hostUsers: false, are exempt).',
  action: 'deny',
  level: 'container',
  fix: 'Set securityContext.runAsNonRoot: true in the pod securityContext (or in every container).',
  rationale: `${PSS}, "Running as Non-root": containers must be required to run as non-root users. Restricted fields spec.securityContext.runAsNonRoot and spec.{containers,initContainers,ephemeralContainers}[*].securityContext.runAsNonRoot; allowed value true (container fields may be undefined/nil if the pod-level one is true). PSA check runAsNonRoot skips pods with hostUsers: false from policy v1.35.`,
})
  .typed('pod-run-as-non-root-type', pod.field('securityContext', 'runAsNonRoot'), 'boolean', 'runAsNonRoot must be a boolean')
  .typed('run-as-non-root-type', container.field('securityContext', 'runAsNonRoot'), 'boolean', 'runAsNonRoot must be a boolean')
  .check('pod-false', pod.field('securityContext', 'runAsNonRoot'), all(equals(item, false), notUserNamespace), 'runAsNonRoot must not be false')
  .check('container-false', container.field('securityContext', 'runAsNonRoot'), all(equals(item, false), notUserNamespace), 'runAsNonRoot must not be false')
  .check(
    'unset',
    container.itself(),
    all(
      containerReadable('securityContext'),
      podReadable('securityContext'),
      absent(container.ref('securityContext', 'runAsNonRoot')),
      not(equals(pod.ref('securityContext', 'runAsNonRoot'), true)),
      notUserNamespace,
    ),
    'runAsNonRoot must be true in the pod or the container securityContext',
    { at: ['securityContext', 'runAsNonRoot'] },
  );

export const runAsUser = rule({
    id: 'PSS-RUN-AS-USER',
    title: 'runAsUser not 0',
    description: 'runAsUser, at pod level and in every container, is unset or not 0 (pods in a user namespace, hostUsers: false, are exempt).',
    action: 'deny',
    level: 'container',
    fix: 'Set runAsUser to a non-zero UID, or remove it.',
    rationale: `${PSS}, "Running as Non-root user (v1.23+)": containers must not set runAsUser to 0. Restricted fields spec.securityContext.runAsUser and spec.{containers,initContainers,ephemeralContainers}[*].securityContext.runAsUser; allowed values any non-zero value and undefined/null. PSA check runAsUser skips pods with hostUsers: false from policy v1.35.`,
  })
    .typed('pod-run-as-user-type', pod.field('securityContext', 'runAsUser'), 'integer', 'runAsUser must be an integer')
    .typed('run-as-user-type', container.field('securityContext', 'runAsUser'), 'integer', 'runAsUser must be an integer')
    .check('pod-root', pod.field('securityContext', 'runAsUser'), all(intRange(item, 0, 0), notUserNamespace), 'runAsUser must not be 0')
    .check('root', container.field('securityContext', 'runAsUser'), all(intRange(item, 0, 0), notUserNamespace), 'runAsUser must not be 0');

const podSeccompValid = oneOf(pod.ref('securityContext', 'seccompProfile', 'type'), SECCOMP_TYPES);

export const seccompRestricted = rule({
  id: 'PSS-SECCOMP-RESTRICTED',
  title: 'Seccomp RuntimeDefault or Localhost required',
  description:
    'seccompProfile.type is RuntimeDefault or Localhost at pod level, or in every container; a set profile of another type is a violation (Windows pods, spec.os.name windows, are exempt).',
  action: 'deny',
  level: 'container',
  fix: 'Set securityContext.seccompProfile.type: RuntimeDefault in the pod securityContext (or in every container).',
  rationale: `${PSS}, "Seccomp (v1.19+)": the seccomp profile must be explicitly set to one of the allowed values; both Unconfined and the absence of a profile are prohibited; this is a Linux only policy in v1.25+. Restricted fields spec.securityContext.seccompProfile.type and spec.{containers,initContainers,ephemeralContainers}[*].securityContext.seccompProfile.type; allowed values RuntimeDefault, Localhost (container fields may be undefined/nil if the pod-level one is set) (PSA check seccompProfile_restricted).`,
})
  .check(
    'pod-profile',
    pod.field('securityContext', 'seccompProfile'),
    all(hasType(item, 'object'), not(podSeccompValid), notWindows),
    'seccompProfile.type must be RuntimeDefault or Localhost',
    { at: ['type'] },
  )
  .check(
    'profile',
    container.field('securityContext', 'seccompProfile'),
    all(hasType(item, 'object'), not(oneOf(itemField('type'), SECCOMP_TYPES)), notWindows),
    'seccompProfile.type must be RuntimeDefault or Localhost',
    { at: ['type'] },
  )
  .check(
    'unset',
    container.itself(),
    all(
      containerReadable('securityContext'),
      podReadable('securityContext', 'seccompProfile'),
      absent(container.ref('securityContext', 'seccompProfile')),
      not(podSeccompValid),
      notWindows,
    ),
    'seccompProfile must be set to RuntimeDefault or Localhost in the pod or the container securityContext',
    { at: ['securityContext', 'seccompProfile'] },
  );

const dropList = container.ref('securityContext', 'capabilities', 'drop');

export const capabilitiesRestricted = rule({
  id: 'PSS-CAPABILITIES-RESTRICTED',
  title: 'Drop ALL capabilities, add at most NET_BIND_SERVICE',
  description:
    'Every container drops ALL (capabilities.drop contains "ALL") and adds no capability but NET_BIND_SERVICE, compared exactly (Windows pods, spec.os.name windows, are exempt).',
  action: 'deny',
  level: 'container',
  fix: 'Set capabilities.drop: [ALL] in every container and add only NET_BIND_SERVICE.',
  rationale: `${PSS}, "Capabilities (v1.22+)": containers must drop ALL capabilities, and are only permitted to add back the NET_BIND_SERVICE capability; this is a Linux only policy in v1.25+. Restricted fields spec.{containers,initContainers,ephemeralContainers}[*].securityContext.capabilities.drop (must include ALL) and .capabilities.add (undefined/nil or NET_BIND_SERVICE) (PSA check capabilities_restricted compares names exactly).`,
})
  .typed('drop-type', container.field('securityContext', 'capabilities', 'drop'), 'array', 'capabilities.drop must be a list')
  .typed('drop-entry-type', container.items('securityContext', 'capabilities', 'drop'), 'string', 'each capability must be a string')
  .check(
    'drop-all',
    container.itself(),
    // A drop of the wrong type is already a drop-type violation; reporting it here too would say it twice.
    all(
      containerReadable('securityContext', 'capabilities'),
      any(absent(dropList), hasType(dropList, 'array')),
      not(someItem(dropList, equals(item, 'ALL'))),
      notWindows,
    ),
    'capabilities.drop must include ALL',
    { at: ['securityContext', 'capabilities', 'drop'] },
  )
  .check(
    'add',
    container.items('securityContext', 'capabilities', 'add'),
    all(hasType(item, 'string'), not(equals(item, 'NET_BIND_SERVICE')), notWindows),
    'only NET_BIND_SERVICE may be added at the restricted level',
  );

export const procMountRestricted = rule({
  id: 'PSS-PROC-MOUNT-RESTRICTED',
  title: 'Default /proc mount, even in a user namespace',
  description: 'securityContext.procMount is unset or Default in every container, whatever hostUsers says (v1.35+).',
  action: 'deny',
  level: 'container',
  fix: 'Remove procMount or set it to Default.',
  rationale: `${PSS}: PSA check procMount_restricted (policy v1.35+) keeps the /proc Mount Type control's allowed values (undefined/nil, Default) for pods in a user namespace, which the Baseline check relaxes; the user namespaces page states that with the Restricted standard a pod must still only use the default or empty procMount. Restricted fields spec.{containers,initContainers,ephemeralContainers}[*].securityContext.procMount.`,
}).check(
  'proc-mount',
  container.field('securityContext', 'procMount'),
  all(hasType(item, 'string'), not(equals(item, 'Default'))),
  'procMount must be unset or Default at the restricted level',
);

export default [volumeTypes, privilegeEscalation, runAsNonRoot, runAsUser, seccompRestricted, capabilitiesRestricted, procMountRestricted].reduce(
  (rs, r) => rs.rule(r),
  baselineRules.reduce(
    (rs, r) => rs.rule(r),
    ruleSet({
      name: 'pss_restricted',
      title: `Kubernetes Pod Security Standards: Restricted (${PSS_VERSION})`,
      version: '1.37.0',
      inputRule,
      selector,
    }),
  ),
);
