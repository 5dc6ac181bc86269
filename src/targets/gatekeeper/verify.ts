// The rendered ConstraintTemplate is parsed back before it is written: one YAML document with
// the two code blocks as Gatekeeper reads them. Gatekeeper drops a K8sNativeValidation source
// key it does not know without a word (the singular `matchCondition` is the classic), so the
// keys are checked against its schema (pkg/drivers/k8scel/schema, v3.23.1), and the Rego block
// must read back as exactly the Rego rendered for it.

import type { Diagnostic } from '../../ir/diagnostics.ts';
import { readDocument } from '../kyverno/verify.ts';

const CEL_SOURCE_KEYS = new Set(['validations', 'failurePolicy', 'matchCondition', 'variables', 'generateVAP']);

interface Code {
  readonly engine?: unknown;
  readonly source?: Record<string, unknown>;
}

export function checkGatekeeperTemplate(text: string, file: string, rego: string): Diagnostic[] {
  const { errors, object } = readDocument(text, file, 'ConstraintTemplate');
  if (!object) return errors;
  const shape = (message: string, path: string): Diagnostic => ({ code: 'gatekeeper-shape', message, file, path });
  const targets = (object.spec as { targets?: { code?: Code[] }[] }).targets;
  const code = Array.isArray(targets) && targets.length === 1 && Array.isArray(targets[0]!.code) ? targets[0]!.code : null;
  if (!code) return [shape('expected one target with a code list', 'spec.targets')];
  const block = (engine: string) => code.findIndex((c) => c.engine === engine && typeof c.source === 'object' && c.source !== null);
  const cel = block('K8sNativeValidation');
  const regoAt = block('Rego');
  const out: Diagnostic[] = [];
  if (cel < 0) out.push(shape('no K8sNativeValidation block', 'spec.targets[0].code'));
  else {
    const source = code[cel]!.source!;
    for (const key of Object.keys(source)) {
      if (!CEL_SOURCE_KEYS.has(key)) out.push(shape(`Gatekeeper ignores the CEL source key ${key}`, `spec.targets[0].code[${cel}].source.${key}`));
    }
    if (source['generateVAP'] !== false) out.push(shape('generateVAP must be false', `spec.targets[0].code[${cel}].source`));
  }
  if (regoAt < 0) out.push(shape('no Rego block', 'spec.targets[0].code'));
  else {
    const source = code[regoAt]!.source!;
    if (source['version'] !== 'v1') out.push(shape('the Rego block must say version v1', `spec.targets[0].code[${regoAt}].source.version`));
    if (source['rego'] !== rego) out.push(shape('the Rego block does not read back as the rendered Rego', `spec.targets[0].code[${regoAt}].source.rego`));
  }
  return out;
}
