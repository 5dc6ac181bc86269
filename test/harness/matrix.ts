// The verification matrix: every fixture through OPA WASM, native `opa eval` and `kyverno
// apply`, each result normalised to the facts of ECI-RULES.md.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CompiledRuleSet } from '../../src/emit/build.ts';
import { COMPILER_VERSION } from '../../src/emit/build.ts';
import { render } from '../../src/emit/render.ts';
import { loadWasmPolicy } from '../../src/eval/wasm.ts';
import type { ParamValues } from '../../src/ir/types.ts';
import { POD_CONTROLLERS } from '../../src/ir/types.ts';
import { lowerRuleSet as lowerKyverno, MESSAGE_SEPARATOR } from '../../src/targets/kyverno/lower.ts';
import { fixtureParams, wasmOf } from './compiled.ts';
import { kyvernoApplyBatch, opaEvalBatch } from './engines.ts';
import type { Facts } from './facts.ts';
import type { Fixture } from './fixtures.ts';

export type EngineName = 'opa-wasm' | 'opa' | 'kyverno';

export interface MatrixRow {
  readonly fixture: Fixture;
  readonly results: Partial<Record<EngineName, readonly Facts[]>>;
  /** Why the Kyverno leg does not apply to this fixture, when it does not. */
  readonly kyvernoNotApplicable?: string;
}

const KNOWN_KINDS = new Set<string>(['Pod', ...POD_CONTROLLERS]);

/** The object an admission controller would see, or why Kyverno cannot judge this input. */
export function admissionObject(fixture: Fixture, inputRuleId: string): { object: Record<string, unknown> } | { reason: string } {
  const input = fixture.input as Record<string, unknown> | null;
  let object: unknown = input;
  let requestNamespace: unknown;
  if (input && typeof input === 'object' && !Array.isArray(input)) {
    if (input['kind'] === 'AdmissionReview') {
      const request = input['request'] as Record<string, unknown> | undefined;
      object = request?.['object'];
      requestNamespace = request?.['namespace'];
    } else if (input['kind'] === undefined && input['review'] && typeof input['review'] === 'object') {
      object = (input['review'] as Record<string, unknown>)['object'];
    }
  }
  if (object === null || object === undefined) return { reason: 'no object under admission (e.g. DELETE): nothing to send to Kyverno' };
  if (typeof object !== 'object' || Array.isArray(object)) return { reason: 'not an object: the API server rejects it before admission' };
  const obj = object as Record<string, unknown>;
  if (!KNOWN_KINDS.has(String(obj['kind']))) return { reason: `kind ${String(obj['kind'])} is not matched by the policy (Pods and pod controllers only)` };
  // Input-rule findings other than container lists are about documents the API server rejects
  // (unreadable metadata, no pod template); Kyverno never sees them.
  const inputOnly = fixture.expect.filter((e) => e.rule === inputRuleId);
  if (inputOnly.some((e) => !/(^|\.)(containers|initContainers|ephemeralContainers)(\[\d+\])?$/.test(e.path ?? '')))
    return { reason: 'malformed beyond what the API server admits (the Rego legs report it as the input rule)' };
  const metadata = (obj['metadata'] as Record<string, unknown> | undefined) ?? {};
  // The API server fills an object's namespace from the request.
  const namespaced = metadata['namespace'] === undefined && typeof requestNamespace === 'string' ? { ...metadata, namespace: requestNamespace } : metadata;
  return { object: { ...obj, metadata: namespaced } };
}

function podSpecOf(object: Record<string, unknown>): Record<string, unknown> | undefined {
  const get = (o: unknown, path: string[]) => path.reduce<unknown>((x, k) => (x && typeof x === 'object' ? (x as Record<string, unknown>)[k] : undefined), o);
  const kind = object['kind'];
  const path = kind === 'Pod' ? ['spec'] : kind === 'CronJob' ? ['spec', 'jobTemplate', 'spec', 'template', 'spec'] : ['spec', 'template', 'spec'];
  return get(object, path) as Record<string, unknown> | undefined;
}

export async function runMatrix(c: CompiledRuleSet, fixtures: readonly Fixture[], legs: readonly EngineName[]): Promise<MatrixRow[]> {
  const rs = c.ruleSet;
  const params = fixtures.map((f) => fixtureParams(c, f));
  const rows = fixtures.map((fixture) => ({ fixture, results: {} as Partial<Record<EngineName, readonly Facts[]>>, kyvernoNotApplicable: undefined as string | undefined }));

  if (legs.includes('opa-wasm')) {
    const policy = await loadWasmPolicy(wasmOf(c), rs.name, c.params);
    fixtures.forEach((f, i) => {
      policy.setParams(params[i]);
      rows[i]!.results['opa-wasm'] = policy.violations(f.input);
    });
  }

  if (legs.includes('opa')) {
    const work = mkdtempSync(join(tmpdir(), 'eci-rego-'));
    try {
      const rego = join(work, 'policy.rego');
      writeFileSync(rego, c.files.get('rego/policy.rego') as string);
      const results = await opaEvalBatch([rego], rs.name, fixtures.map((f, i) => ({ input: f.input, params: params[i] })));
      results.forEach((r, i) => (rows[i]!.results['opa'] = r));
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }

  if (legs.includes('kyverno')) {
    const groups = new Map<string, { params: ParamValues; members: { row: number; object: Record<string, unknown> }[] }>();
    fixtures.forEach((f, i) => {
      const adm = admissionObject(f, rs.inputRule.id);
      if ('reason' in adm) {
        rows[i]!.kyvernoNotApplicable = adm.reason;
        return;
      }
      const key = JSON.stringify(params[i]);
      if (!groups.has(key)) groups.set(key, { params: params[i]!, members: [] });
      groups.get(key)!.members.push({ row: i, object: adm.object });
    });
    const header = { compilerVersion: COMPILER_VERSION, source: 'test harness', ruleSet: rs.name, ruleSetVersion: rs.version };
    // Two kyverno processes at a time (machines here have 2 cores).
    const queue = [...groups.values()];
    const worker = async () => {
      for (let g = queue.shift(); g; g = queue.shift()) await applyGroup(g);
    };
    const applyGroup = async (g: { params: ParamValues; members: { row: number; object: Record<string, unknown> }[] }) => {
      {
        const lowered = lowerKyverno(rs, g.params);
        const rules = new Map(
          lowered.rules.map((r) => [r.name, { ruleId: r.ruleId, separator: MESSAGE_SEPARATOR, action: r.failureAction === 'Enforce' ? ('deny' as const) : ('warn' as const) }]),
        );
        const policy = render('kyverno/clusterpolicy.yaml', lowered, header);
        const results = await kyvernoApplyBatch(policy, g.members.map((m) => ({ object: m.object })), (name) => rules.get(name));
        results.forEach((facts, k) => {
          const { row, object } = g.members[k]!;
          const spec = podSpecOf(object);
          rows[row]!.results['kyverno'] = facts.map(({ index, ...f }) => {
            if (f.list === undefined || index === undefined) return f;
            const ctr = (spec?.[f.list] as Record<string, unknown>[] | undefined)?.[index];
            const name = ctr && typeof ctr === 'object' ? ctr['name'] : undefined;
            return { ...f, container: typeof name === 'string' ? name : '' };
          });
        });
      }
    };
    await Promise.all([worker(), worker()]);
  }
  return rows;
}
