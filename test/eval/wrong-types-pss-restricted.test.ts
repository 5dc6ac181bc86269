// Fail closed for the fields only the Restricted controls read (issue 5, part 1). Each case starts
// from a pod meeting every Restricted control, so the one malformed field is the only fault:
// every engine must deny with the field's owner at its path, and nothing else; `null` is absent
// unless Kubernetes' Restricted profile requires the field (allowPrivilegeEscalation: unset is a
// violation in PSA's check; capabilities.drop must include ALL). The base pod sets runAsNonRoot
// at both levels, so each may be malformed or absent on its own. Owners are the PSS controls that
// name each field (the PSS page's "Restricted Fields"); spec.os and spec.os.name decide the
// Windows exemption and are owned by PSS-PRIVILEGE-ESCALATION (the README's owner table). The
// parents shared with Baseline (securityContext, capabilities) are covered by wrong-types-pss.

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
