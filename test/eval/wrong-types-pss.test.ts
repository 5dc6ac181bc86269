// Fail closed, systematically, for the Pod Security Standards sets (issue 5, part 1): every field
// a Baseline control restricts (the PSS page's "Restricted Fields") and each parent on its path
// gets every wrong JSON type, in a Pod (every container list) and a Deployment. Every engine must
// deny with the field's owner at its path, and nothing else; `null` is absent. Leaf owners are
// the PSS controls naming the field; shared parents have the one owner the README gives (pod and
// container securityContext: PSS-HOST-PROCESS, capabilities: PSS-CAPABILITIES-BASELINE, volumes
// and each volume: PSS-HOST-PATH-VOLUMES, ports: PSS-HOST-PORTS, hostUsers: PSS-PROC-MOUNT).
// Run on pss_baseline: pss_restricted adds controls that require fields, which a malformed
// parent also leaves unset (those extra denies are right, but not this test's subject).

import { test } from 'uvu';
import { judgeWrongTypes, wrongTypeCases, type FieldCase } from '../harness/wrong-types.ts';

const sc = 'securityContext';
const FIELDS: readonly FieldCase[] = [
  { level: 'pod', path: [sc], type: 'object', owner: 'PSS-HOST-PROCESS' },
  { level: 'pod', path: [sc, 'windowsOptions'], type: 'object', owner: 'PSS-HOST-PROCESS' },
  { level: 'pod', path: [sc, 'windowsOptions', 'hostProcess'], type: 'boolean', owner: 'PSS-HOST-PROCESS' },
  { level: 'pod', path: ['hostNetwork'], type: 'boolean', owner: 'PSS-HOST-NAMESPACES' },
  { level: 'pod', path: ['hostPID'], type: 'boolean', owner: 'PSS-HOST-NAMESPACES' },
  { level: 'pod', path: ['hostIPC'], type: 'boolean', owner: 'PSS-HOST-NAMESPACES' },
  { level: 'pod', path: ['volumes'], type: 'array', owner: 'PSS-HOST-PATH-VOLUMES' },
  { level: 'pod', path: ['volumes', 0], type: 'object', owner: 'PSS-HOST-PATH-VOLUMES' },
  { level: 'pod', path: [sc, 'seLinuxOptions'], type: 'object', owner: 'PSS-SELINUX' },
  { level: 'pod', path: [sc, 'seLinuxOptions', 'type'], type: 'string', owner: 'PSS-SELINUX' },
  { level: 'pod', path: [sc, 'seLinuxOptions', 'user'], type: 'string', owner: 'PSS-SELINUX' },
  { level: 'pod', path: [sc, 'seLinuxOptions', 'role'], type: 'string', owner: 'PSS-SELINUX' },
  { level: 'pod', path: [sc, 'seccompProfile'], type: 'object', owner: 'PSS-SECCOMP-BASELINE' },
  { level: 'pod', path: [sc, 'appArmorProfile'], type: 'object', owner: 'PSS-APPARMOR' },
  { level: 'pod', path: [sc, 'sysctls'], type: 'array', owner: 'PSS-SYSCTLS' },
  { level: 'pod', path: [sc, 'sysctls', 0], type: 'object', owner: 'PSS-SYSCTLS' },
  { level: 'pod', path: ['hostUsers'], type: 'boolean', owner: 'PSS-PROC-MOUNT' },
  { level: 'container', path: [sc], type: 'object', owner: 'PSS-HOST-PROCESS' },
  { level: 'container', path: [sc, 'windowsOptions'], type: 'object', owner: 'PSS-HOST-PROCESS' },
  { level: 'container', path: [sc, 'windowsOptions', 'hostProcess'], type: 'boolean', owner: 'PSS-HOST-PROCESS' },
  { level: 'container', path: [sc, 'privileged'], type: 'boolean', owner: 'PSS-PRIVILEGED' },
  { level: 'container', path: [sc, 'capabilities'], type: 'object', owner: 'PSS-CAPABILITIES-BASELINE' },
  { level: 'container', path: [sc, 'capabilities', 'add'], type: 'array', owner: 'PSS-CAPABILITIES-BASELINE' },
  { level: 'container', path: [sc, 'capabilities', 'add', 0], type: 'string', owner: 'PSS-CAPABILITIES-BASELINE' },
  { level: 'container', path: ['ports'], type: 'array', owner: 'PSS-HOST-PORTS' },
  { level: 'container', path: ['ports', 0], type: 'object', owner: 'PSS-HOST-PORTS' },
  { level: 'container', path: ['ports', 0, 'hostPort'], type: 'integer', owner: 'PSS-HOST-PORTS' },
  { level: 'container', path: [sc, 'seLinuxOptions'], type: 'object', owner: 'PSS-SELINUX' },
  { level: 'container', path: [sc, 'seLinuxOptions', 'type'], type: 'string', owner: 'PSS-SELINUX' },
  { level: 'container', path: [sc, 'procMount'], type: 'string', owner: 'PSS-PROC-MOUNT' },
  { level: 'container', path: [sc, 'seccompProfile'], type: 'object', owner: 'PSS-SECCOMP-BASELINE' },
  { level: 'container', path: [sc, 'appArmorProfile'], type: 'object', owner: 'PSS-APPARMOR' },
  { level: 'container', path: ['livenessProbe', 'httpGet', 'host'], type: 'string', owner: 'PSS-HOST-PROBES' },
];

await judgeWrongTypes('pss_baseline', wrongTypeCases(FIELDS, { labels: {} }), 300);

test.run();
