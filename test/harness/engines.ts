// The native engine legs of the harness, batched: one `opa eval` process and one
// `kyverno apply` process per fixture set (per parameter set for Kyverno, whose policies have
// their parameters compiled in), never one per fixture.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findEngine, installHint } from '../../src/emit/engines.ts';
import type { Facts } from './facts.ts';

const run = promisify(execFile);

export function engine(name: 'opa' | 'kyverno'): string {
  const bin = findEngine(name);
  if (!bin) throw new Error(`${name} is not installed; ${installHint(name)}`);
  return bin;
}

export interface OpaCase {
  readonly input: unknown;
  readonly params: unknown;
}

/**
 * Native `opa eval` over the generated Rego: every case in one process. The case's input is
 * bound to a variable before `with input as …`: a `with` value that is a reference into the
 * replaced document is not what we want here.
 */
export async function opaEvalBatch(regoFiles: readonly string[], packageName: string, cases: readonly OpaCase[]): Promise<Facts[][]> {
  const work = mkdtempSync(join(tmpdir(), 'eci-opa-'));
  try {
    const inputFile = join(work, 'input.json');
    writeFileSync(inputFile, JSON.stringify({ cases }));
    const query = `results := [v | some c in input.cases; doc := c.input; params := c.params; v := data.${packageName}.violations with input as doc with data.${packageName}.params as params]`;
    const args = ['eval', '--format', 'json', '--input', inputFile, ...regoFiles.flatMap((f) => ['--data', f]), query];
    const { stdout } = await run(engine('opa'), args, { maxBuffer: 512 * 1024 * 1024 });
    const out = JSON.parse(stdout) as { result?: { bindings: { results: Facts[][] } }[] };
    const results = out.result?.[0]?.bindings.results;
    if (!results || results.length !== cases.length) throw new Error(`opa eval returned ${results?.length ?? 'no'} results for ${cases.length} cases`);
    return results;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

export interface KyvernoCase {
  /** The object under admission (a Pod or pod controller). */
  readonly object: Record<string, unknown>;
}

interface ReportResult {
  policy: string;
  rule: string;
  result: 'pass' | 'fail' | 'warn' | 'error' | 'skip';
  message?: string;
  resources?: { kind: string; name: string; namespace?: string }[];
}

/**
 * Facts from one Kyverno message: `<prefix> :: ["<path>[@<list>[<i>]]", …]`, where a last entry
 * `"<n> more"` counts the facts left out to keep the message within Kubernetes' 5 KiB.
 */
export function parseKyvernoMessage(message: string, separator: string): { path: string; list?: string; index?: number }[] & { omitted?: number } {
  const at = message.lastIndexOf(`${separator}[`);
  if (at < 0) throw new Error(`kyverno message without facts: ${message}`);
  // The entries are CEL's strings.quote: JSON's escapes, plus \a and \v for BEL and VT.
  const json = message.slice(at + separator.length).replace(/\\(.)/gs, (e, c: string) => (c === 'a' ? '\\u0007' : c === 'v' ? '\\u000b' : e));
  const entries = JSON.parse(json) as string[];
  const more = /^(\d+) more$/.exec(entries.at(-1) ?? '');
  if (more) entries.pop();
  const facts = entries.map((entry) => {
    const m = /^(.*)@(containers|initContainers|ephemeralContainers)\[(\d+)\]$/.exec(entry);
    const raw = m ? m[1]! : entry;
    const path = raw.replace(/^object\./, '');
    return m ? { path, list: m[2]!, index: Number(m[3]) } : { path };
  });
  return more ? Object.assign(facts, { omitted: Number(more[1]) }) : facts;
}

export interface KyvernoRuleInfo {
  readonly ruleId: string;
  readonly separator: string;
  /** The rule's `validate.failureAction`: Kyverno's report says `fail` for Enforce and Audit alike. */
  readonly action: 'deny' | 'warn';
}

/**
 * `kyverno apply` of one ClusterPolicy over many resources. Each resource gets a unique name
 * (the result is keyed by it). The CLI reports a failed rule as `fail` whatever its per-rule
 * failureAction (`--audit-warn` only reads the deprecated policy-level setting), so the action
 * is read from the rule's failureAction in the applied policy.
 */
export async function kyvernoApplyBatch(
  policyYaml: string,
  cases: readonly KyvernoCase[],
  decode: (rule: string) => KyvernoRuleInfo | undefined,
): Promise<(Facts & { index?: number })[][]> {
  const work = mkdtempSync(join(tmpdir(), 'eci-kyverno-'));
  try {
    const policyFile = join(work, 'policy.yaml');
    writeFileSync(policyFile, policyYaml);
    const names = cases.map((_, i) => `fixture-${i}`);
    const resourceFile = join(work, 'resources.yaml');
    // Documents are written as JSON (a YAML subset): Kyverno reads YAML 1.1, where a plain
    // `yes` or `on` is a boolean, so YAML 1.2 output of the string "yes" would change the case.
    writeFileSync(
      resourceFile,
      cases
        .map((c, i) => JSON.stringify({ ...c.object, metadata: { ...(c.object['metadata'] as object), name: names[i] } }))
        .join('\n---\n'),
    );
    let stdout: string;
    try {
      ({ stdout } = await run(
        engine('kyverno'),
        ['apply', policyFile, '--resource', resourceFile, '--policy-report', '--output-format', 'json', '--remove-color'],
        { maxBuffer: 512 * 1024 * 1024 },
      ));
    } catch (e) {
      // kyverno apply exits 1 when a policy fails; the report is still on stdout.
      const err = e as { stdout?: string; stderr?: string; code?: number };
      if (!err.stdout?.includes('{')) throw new Error(`kyverno apply failed (${err.code}): ${err.stderr}`);
      stdout = err.stdout;
    }
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { results?: ReportResult[] };
    const out: (Facts & { index?: number })[][] = cases.map(() => []);
    for (const r of report.results ?? []) {
      const resource = r.resources?.[0];
      const i = resource ? names.indexOf(resource.name) : -1;
      if (i < 0) throw new Error(`kyverno result for an unknown resource: ${JSON.stringify(r)}`);
      if (r.result === 'pass' || r.result === 'skip') continue;
      if (r.result === 'error') throw new Error(`kyverno rule ${r.rule} errored on case ${i}: ${r.message}`);
      const rule = decode(r.rule);
      if (!rule) throw new Error(`kyverno reported an unknown rule ${r.rule}`);
      const facts = parseKyvernoMessage(r.message ?? '', rule.separator);
      for (const f of facts) {
        out[i]!.push({
          rule: rule.ruleId,
          action: rule.action,
          path: f.path,
          ...(f.list !== undefined ? { list: f.list, index: f.index! } : {}),
        });
      }
      // Facts the message had no room for: a marker no expectation matches, so a comparison
      // shows them as a difference instead of silently passing on the listed ones.
      if (facts.omitted) out[i]!.push({ rule: rule.ruleId, action: rule.action, path: `(${facts.omitted} more)` });
    }
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

