// Parameter files: YAML read with `yaml` (keeping node positions), validated with ajv against
// the rule set's parameter schema; every error names the key and its line.

import { Ajv, type ValidateFunction } from 'ajv';
import { isMap, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { Diagnostic, Result } from './diagnostics.ts';
import { fail, ok } from './diagnostics.ts';
import { paramsSchema } from './schema.ts';
import type { ParamValues, RuleSet } from './types.ts';

const ajv = new Ajv({ allErrors: true, strict: true, allowUnionTypes: true });
const validators = new WeakMap<RuleSet, ValidateFunction>();

function validatorFor(rs: RuleSet): ValidateFunction {
  let v = validators.get(rs);
  if (!v) {
    v = ajv.compile(paramsSchema(rs));
    validators.set(rs, v);
  }
  return v;
}

/** The node at a JSON pointer; with `key`, the last step's key node (where a bad key is written). */
function nodeAt(root: Node | null | undefined, instancePath: string, key = false): Node | undefined {
  let node: unknown = root;
  const steps = instancePath.split('/').slice(1);
  for (const [i, raw] of steps.entries()) {
    const name = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (isMap(node)) {
      const pair = node.items.find((p) => (p.key as { value?: unknown } | null)?.value === name);
      node = key && i === steps.length - 1 ? pair?.key : (pair?.value ?? pair?.key);
    } else if (isSeq(node)) node = node.items[Number(name)];
    else return undefined;
  }
  return (node as Node | undefined) ?? undefined;
}

/** Parse and validate a parameter file's text. `file` names it in diagnostics. */
export function parseParams(rs: RuleSet, text: string, file: string): Result<ParamValues> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const lineOf = (offset: number | undefined) => (offset === undefined ? undefined : lineCounter.linePos(offset));
  if (doc.errors.length) {
    return fail(
      doc.errors.map((e) => {
        const pos = lineOf(e.pos[0]);
        return { code: 'params-yaml', message: e.message.split('\n')[0] ?? e.message, file, ...(pos ? { line: pos.line, column: pos.col } : {}) };
      }),
    );
  }
  const value: unknown = doc.toJS({ maxAliasCount: 100 });
  const validate = validatorFor(rs);
  if (validate(value)) return ok(value as ParamValues);
  const errors: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of validate.errors ?? []) {
    // ajv reports a bad key twice: the inner check (with propertyName) and `propertyNames`.
    if (e.propertyName !== undefined) continue;
    const extra =
      e.params && 'additionalProperty' in e.params
        ? `/${String(e.params['additionalProperty'])}`
        : e.keyword === 'propertyNames' && e.params && 'propertyName' in e.params
          ? `/${String(e.params['propertyName'])}`
          : '';
    const missing = e.params && 'missingProperty' in e.params ? String(e.params['missingProperty']) : undefined;
    const keyPath = `${e.instancePath}${extra}`;
    const key = keyPath.split('/').slice(1).join('.') || (missing ?? '(root)');
    const msg =
      e.keyword === 'additionalProperties'
        ? `unknown parameter ${key}`
        : e.keyword === 'required'
          ? `missing parameter ${missing}`
          : e.keyword === 'propertyNames'
            ? `${e.instancePath.split('/').slice(1).join('.')}: ${String(e.params['propertyName'])} is not a rule of ${rs.name}`
            : `${key} ${e.message ?? 'is invalid'}${'allowedValues' in e.params ? ` (${(e.params['allowedValues'] as unknown[]).map(String).join(', ')})` : ''}`;
    const sig = `${keyPath}|${msg}`;
    if (seen.has(sig)) continue;
    seen.add(sig);
    const badKey = e.keyword === 'additionalProperties' || e.keyword === 'propertyNames';
    const node = nodeAt(doc.contents, keyPath, badKey) ?? nodeAt(doc.contents, e.instancePath);
    const pos = lineOf(node?.range?.[0]);
    errors.push({ code: 'params-invalid', message: msg, file, path: key, ...(pos ? { line: pos.line, column: pos.col } : {}) });
  }
  return fail(errors);
}

/** Validate parameter values given as data (e.g. a fixture's overrides merged over a file). */
export function validateParamValues(rs: RuleSet, value: unknown, where: string): Result<ParamValues> {
  const validate = validatorFor(rs);
  if (validate(value)) return ok(value as ParamValues);
  return fail(
    (validate.errors ?? []).map((e) => ({
      code: 'params-invalid',
      message: `${e.instancePath.split('/').slice(1).join('.') || '(root)'} ${e.message ?? 'is invalid'}${e.params && 'additionalProperty' in e.params ? `: ${String(e.params['additionalProperty'])}` : ''}`,
      file: where,
    })),
  );
}
