// Fail closed, systematically (issue 5, part 1): every field an ECI rule reads, and each parent
// object or list on its path, is given every wrong JSON type in turn, in a Pod (every container
// list) and in a Deployment. Every engine must report a deny of the field's owner at
// its path (owners as listed in ECI-RULES.md, "Malformed input fails closed"), nothing else but
// the warnings the catalogue gives whatever the value (ECI-POD-004 / ECI-CTR-008), and must not
// crash. `null` means absent: no violation at all.

import { test } from 'uvu';
import type { ExpectedViolation } from '../../src/fixtures/corpus.ts';
import { judgeWrongTypes, setAt, wrongTypeCases, type FieldCase } from '../harness/wrong-types.ts';

/** ECI's pod-level securityContext fields it does not honour are warned about whatever their value. */
type EciField = FieldCase & { readonly podWarn?: boolean };

// Transcribed from ECI-RULES.md, "Malformed input fails closed": the owner of each field.
const FIELDS: readonly EciField[] = [
  { level: 'pod', path: ['securityContext'], type: 'object', owner: 'ECI-POD-004' },
  { level: 'pod', path: ['securityContext', 'sysctls'], type: 'array', owner: 'ECI-POD-001' },
  { level: 'pod', path: ['securityContext', 'sysctls', 0], type: 'object', owner: 'ECI-POD-001' },
  { level: 'pod', path: ['securityContext', 'sysctls', 0, 'name'], type: 'string', owner: 'ECI-POD-001', required: true },
  { level: 'pod', path: ['securityContext', 'sysctls', 0, 'value'], type: 'string', owner: 'ECI-POD-001' },
  { level: 'pod', path: ['securityContext', 'runAsUser'], type: 'integer', owner: 'ECI-CTR-005' },
  { level: 'pod', path: ['securityContext', 'runAsGroup'], type: 'integer', owner: 'ECI-CTR-005', podWarn: true },
  { level: 'pod', path: ['securityContext', 'runAsNonRoot'], type: 'boolean', owner: 'ECI-CTR-003', podWarn: true },
  { level: 'container', path: ['securityContext'], type: 'object', owner: 'ECI-CTR-008' },
  { level: 'container', path: ['securityContext', 'runAsUser'], type: 'integer', owner: 'ECI-CTR-005' },
  { level: 'container', path: ['securityContext', 'runAsGroup'], type: 'integer', owner: 'ECI-CTR-005' },
  { level: 'container', path: ['securityContext', 'runAsNonRoot'], type: 'boolean', owner: 'ECI-CTR-003' },
  { level: 'container', path: ['securityContext', 'privileged'], type: 'boolean', owner: 'ECI-CTR-002' },
  { level: 'container', path: ['securityContext', 'capabilities'], type: 'object', owner: 'ECI-CTR-001' },
  { level: 'container', path: ['securityContext', 'capabilities', 'add'], type: 'array', owner: 'ECI-CTR-001' },
  { level: 'container', path: ['securityContext', 'capabilities', 'add', 0], type: 'string', owner: 'ECI-CTR-001' },
  { level: 'container', path: ['securityContext', 'procMount'], type: 'string', owner: 'ECI-CTR-006' },
  { level: 'container', path: ['securityContext', 'readOnlyRootFilesystem'], type: 'boolean', owner: 'ECI-CTR-007' },
];

const LABELS = { 'alibabacloud.com/eci': 'true' };

const cases = () =>
  wrongTypeCases(FIELDS, {
    labels: LABELS,
    // A sysctl entry needs a supported name, so the value is what is malformed.
    prepare: (spec, field) => (field.path[2] === 0 && field.path[3] === 'value' ? setAt(spec, ['securityContext', 'sysctls', 0, 'name'], 'net.core.somaxconn') : spec),
    alsoExpected: (field, path) => ((field as EciField).podWarn ? [{ rule: 'ECI-POD-004', action: 'warn', path } as ExpectedViolation] : []),
  });

await judgeWrongTypes('eci', cases(), 250);

test.run();
