// Fail closed for the fields only the Restricted controls read (issue 5, part 1). Each case starts
// from a pod meeting every Restricted control, so the one malformed field is the only fault:
// every engine must deny with the field's owner at its path, and nothing else; `null` is absent
// unless Kubernetes' Restricted profile requires the field (allowPrivilegeEscalation: unset is a
// violation in PSA's check; capabilities.drop must include ALL). The base pod sets runAsNonRoot
// at both levels, so each may be malformed or absent on its own. Owners are the PSS controls that
// name each field (the PSS page's "Restricted Fields"); spec.os and spec.os.name decide the
// Windows exemption and are owned by PSS-PRIVILEGE-ESCALATION (the README's owner table).
// The parents shared with Baseline (securityContext, capabilities, seccompProfile) are here too:
// a wrong-typed parent makes the required fields under it set but unknown, so it is its owner's
// deny alone (README "Wrong types fail closed"); when it is absent, the Restricted controls
// report the fields they require under it.

import { test } from 'uvu';
import { judgeWrongTypes, wrongTypeCases, type FieldCase } from '../harness/wrong-types.ts';

const sc = 'securityContext';
const FIELDS: readonly FieldCase[] = [
  { level: 'container', path: [sc, 'allowPrivilegeEscalation'], type: 'boolean', owner: 'PSS-PRIVILEGE-ESCALATION', required: true },
  { level: 'container', path: [sc, 'capabilities', 'drop'], type: 'array', owner: 'PSS-CAPABILITIES-RESTRICTED', required: true },
  { level: 'container', path: [sc, 'capabilities', 'drop', 1], type: 'string', owner: 'PSS-CAPABILITIES-RESTRICTED' },
  { level: 'container', path: [sc, 'runAsNonRoot'], type: 'boolean', owner: 'PSS-RUN-AS-NON-ROOT' },
  { level: 'container', path: [sc, 'runAsUser'], type: 'integer', owner: 'PSS-RUN-AS-USER' },
  { level: 'pod', path: [sc, 'runAsNonRoot'], type: 'boolean', owner: 'PSS-RUN-AS-NON-ROOT' },
  { level: 'pod', path: [sc, 'runAsUser'], type: 'integer', owner: 'PSS-RUN-AS-USER' },
  { level: 'pod', path: ['os'], type: 'object', owner: 'PSS-PRIVILEGE-ESCALATION' },
  { level: 'pod', path: ['os', 'name'], type: 'string', owner: 'PSS-PRIVILEGE-ESCALATION' },
  {
    level: 'container',
    path: [sc],
    type: 'object',
    owner: 'PSS-HOST-PROCESS',
    whenAbsent: [
      { rule: 'PSS-PRIVILEGE-ESCALATION', path: [sc, 'allowPrivilegeEscalation'] },
      { rule: 'PSS-CAPABILITIES-RESTRICTED', path: [sc, 'capabilities', 'drop'] },
    ],
  },
  {
    level: 'container',
    path: [sc, 'capabilities'],
    type: 'object',
    owner: 'PSS-CAPABILITIES-BASELINE',
    whenAbsent: [{ rule: 'PSS-CAPABILITIES-RESTRICTED', path: [sc, 'capabilities', 'drop'] }],
  },
  // The base sets seccomp at pod level only, and runAsNonRoot at both levels.
  { level: 'pod', path: [sc], type: 'object', owner: 'PSS-HOST-PROCESS', whenAbsent: [{ rule: 'PSS-SECCOMP-RESTRICTED', path: [sc, 'seccompProfile'] }] },
  {
    level: 'pod',
    path: [sc, 'seccompProfile'],
    type: 'object',
    owner: 'PSS-SECCOMP-BASELINE',
    whenAbsent: [{ rule: 'PSS-SECCOMP-RESTRICTED', path: [sc, 'seccompProfile'] }],
  },
];

/** Every container of `spec` meets the Restricted controls, and so does the pod. */
function restrictedBase(spec: Record<string, unknown>): Record<string, unknown> {
  // runAsNonRoot at both levels, so that either one may be malformed or absent on its own.
  const compliant = (c: Record<string, unknown>) => ({
    ...c,
    securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ['ALL'] } },
  });
  const out: Record<string, unknown> = { ...spec, securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } } };
  for (const list of ['containers', 'initContainers', 'ephemeralContainers']) {
    if (Array.isArray(spec[list])) out[list] = (spec[list] as Record<string, unknown>[]).map(compliant);
  }
  return out;
}

await judgeWrongTypes('pss_restricted', wrongTypeCases(FIELDS, { labels: {}, base: restrictedBase }), 100);

test.run();
