// The native engine legs of the harness, batched: one `opa eval` process, and one `kyverno
// apply` or `conftest test` process per parameter set (Kyverno's policies have their parameters
// compiled in; conftest takes them as one data file), never one per fixture.

import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findEngine, installHint, type Engine } from '../../src/emit/engines.ts';
import { CEL_ERROR_RULE, OMITTED_RULE, type Facts } from './facts.ts';

const run = promisify(execFile);

export function engine(name: Engine): string {
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
 * `kyverno apply` of policies over many resources, in one process: each case's non-passing
 * report results (`fail`, `warn`; an `error` throws). Each resource gets a unique name (the
 * result is keyed by it).
 */
export async function kyvernoApplyResults(policyYamls: readonly string[], cases: readonly KyvernoCase[], parameterYamls: readonly string[] = []): Promise<ReportResult[][]> {
  const work = mkdtempSync(join(tmpdir(), 'eci-kyverno-'));
  try {
    const write = (prefix: string) => (text: string, i: number) => {
      const file = join(work, `${prefix}-${i}.yaml`);
      writeFileSync(file, text);
      return file;
    };
    const policyFiles = policyYamls.map(write('policy'));
    // A ValidatingAdmissionPolicy's parameter objects (its binding's paramRef names one).
    const parameterArgs = parameterYamls.map(write('param')).flatMap((f) => ['--parameter-resource', f]);
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
        ['apply', ...policyFiles, ...parameterArgs, '--resource', resourceFile, '--policy-report', '--output-format', 'json', '--remove-color'],
        { maxBuffer: 512 * 1024 * 1024 },
      ));
    } catch (e) {
      // kyverno apply exits 1 when a policy fails; the report is still on stdout.
      const err = e as { stdout?: string; stderr?: string; code?: number };
      if (!err.stdout?.includes('{')) throw new Error(`kyverno apply failed (${err.code}): ${err.stderr}`);
      stdout = err.stdout;
    }
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { results?: ReportResult[] };
    const out: ReportResult[][] = cases.map(() => []);
    for (const r of report.results ?? []) {
      const resource = r.resources?.[0];
      const i = resource ? names.indexOf(resource.name) : -1;
      if (i < 0) throw new Error(`kyverno result for an unknown resource: ${JSON.stringify(r)}`);
      if (r.result === 'pass' || r.result === 'skip') continue;
      if (r.result === 'error') throw new Error(`kyverno ${r.policy}/${r.rule} errored on case ${i}: ${r.message}`);
      out[i]!.push(r);
    }
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/**
 * `kyverno apply` of one ClusterPolicy over many resources. The CLI reports a failed rule as
 * `fail` whatever its per-rule failureAction (`--audit-warn` only reads the deprecated
 * policy-level setting), so the action is read from the rule's failureAction in the applied policy.
 */
export async function kyvernoApplyBatch(
  policyYaml: string,
  cases: readonly KyvernoCase[],
  decode: (rule: string) => KyvernoRuleInfo | undefined,
): Promise<(Facts & { index?: number })[][]> {
  const results = await kyvernoApplyResults([policyYaml], cases);
  return results.map((rs) =>
    rs.flatMap((r) => {
      const rule = decode(r.rule);
      if (!rule) throw new Error(`kyverno reported an unknown rule ${r.rule}`);
      return kyvernoRuleFacts(r.message ?? '', rule);
    }),
  );
}

/** The facts of one ClusterPolicy rule's message (the CLI's report, the admission controller's denial or warning). */
export function kyvernoRuleFacts(message: string, rule: KyvernoRuleInfo): (Facts & { index?: number })[] {
  const facts = parseKyvernoMessage(message, rule.separator);
  const out: (Facts & { index?: number })[] = facts.map((f) => ({ rule: rule.ruleId, action: rule.action, path: f.path, ...(f.list !== undefined ? { list: f.list, index: f.index! } : {}) }));
  // Facts the message had no room for: a marker no expectation matches, so a comparison
  // shows them as a difference instead of silently passing on the listed ones.
  if (facts.omitted) out.push({ rule: rule.ruleId, action: rule.action, path: `(${facts.omitted} more)` });
  return out;
}

/**
 * `kyverno apply` of ValidatingPolicies, or ValidatingAdmissionPolicies with their bindings and
 * parameters (one policy per action), over many resources. A policy's one message lists every
 * failing rule's facts as `<RULE-ID> <path>[@<list>[<index>]]`; its action is the policy's
 * (`actionOf` its name).
 */
export async function kyvernoVpolBatch(
  policyYamls: readonly string[],
  cases: readonly KyvernoCase[],
  actionOf: (policy: string) => 'deny' | 'warn' | undefined,
  separator: string,
  parameterYamls: readonly string[] = [],
): Promise<(Facts & { index?: number })[][]> {
  const results = await kyvernoApplyResults(policyYamls, cases, parameterYamls);
  return results.map((rs) =>
    rs.flatMap((r) => {
      const action = actionOf(r.policy);
      if (!action) throw new Error(`kyverno reported an unknown policy ${r.policy}`);
      return policyMessageFacts(r.message ?? '', separator, action);
    }),
  );
}

/**
 * The facts of one CEL policy message (a ValidatingPolicy's, a ValidatingAdmissionPolicy's, a
 * Gatekeeper CEL block's): every failing rule's facts as `<RULE-ID> <path>[@<list>[<index>]]`.
 */
export function policyMessageFacts(message: string, separator: string, action: string): (Facts & { index?: number })[] {
  // A ValidatingAdmissionPolicy's message is cut past VAP_MESSAGE_MAX characters (Kubernetes
  // drops one over 5 KiB): a marker no expectation matches, so the comparison shows it.
  if (message.endsWith('…')) return [{ rule: '(message cut)', action, path: `(${message.length} characters)` }];
  const facts = parseKyvernoMessage(message, separator);
  const out: (Facts & { index?: number })[] = [];
  // A VAP's message counts the facts it had no room for: a marker compareFacts reads.
  if (facts.omitted) out.push({ rule: OMITTED_RULE, action, path: `(${facts.omitted} more)` });
  for (const f of facts) {
    const space = f.path.indexOf(' ');
    if (space < 0) throw new Error(`policy message fact without a rule ID: ${f.path}`);
    const rule = f.path.slice(0, space);
    const path = f.path.slice(space + 1).replace(/^object\./, '');
    // `<RULE-ID> (<n> more)`: facts the message had no room for, kept as a marker no
    // expectation matches, so a comparison shows them as a difference.
    out.push({ rule, action, path, ...(f.list !== undefined ? { list: f.list, index: f.index! } : {}) });
  }
  return out;
}

/**
 * `gator test` of a ConstraintTemplate and its constraints over many objects, in one process:
 * the CEL block (gator's default), or the Rego block (`rego`: the CEL driver off). A result's
 * action is its constraint's enforcementAction. The Rego block's facts are its details; the CEL
 * block's are in its message, as a ValidatingPolicy's. A CEL evaluation error is a violation
 * under the template's failurePolicy (Fail), its message Gatekeeper's `failed expression: …`
 * without facts: it is kept as a CEL_ERROR_RULE marker no expectation matches.
 */
export async function gatorBatch(
  objectYamls: readonly string[],
  cases: readonly KyvernoCase[],
  rego: boolean,
  separator: string,
): Promise<(Facts & { index?: number })[][]> {
  const work = mkdtempSync(join(tmpdir(), 'eci-gator-'));
  try {
    const files = objectYamls.map((text, i) => {
      const file = join(work, `policy-${i}.yaml`);
      writeFileSync(file, text);
      return file;
    });
    const names = cases.map((_, i) => `fixture-${i}`);
    const resourceFile = join(work, 'resources.yaml');
    // JSON documents, as for kyverno (no YAML 1.1 misreading).
    writeFileSync(resourceFile, cases.map((c, i) => JSON.stringify({ ...c.object, metadata: { ...(c.object['metadata'] as object), name: names[i] } })).join('\n---\n'));
    const args = ['test', ...[...files, resourceFile].flatMap((f) => ['--filename', f]), '--output', 'json', ...(rego ? ['--enable-k8s-native-validation=false'] : [])];
    let stdout: string;
    try {
      const child = run(engine('gator'), args, { maxBuffer: 512 * 1024 * 1024 });
      // gator reads objects from standard input when it is not a terminal: give it none.
      child.child.stdin?.end();
      ({ stdout } = await child);
    } catch (e) {
      // gator exits 1 when a deny constraint is violated; the results are still on stdout.
      const err = e as { stdout?: string; stderr?: string; code?: number };
      if (err.code !== 1 || !err.stdout?.trimStart().startsWith('[')) throw new Error(`gator test failed (${err.code}): ${err.stderr}${err.stdout?.slice(0, 2000)}`);
      stdout = err.stdout;
    }
    type GatorResult = {
      msg: string;
      metadata?: { details?: unknown };
      enforcementAction?: string;
      violatingObject?: { metadata?: { name?: string } };
    };
    const results = (JSON.parse(stdout || 'null') ?? []) as GatorResult[];
    const out: (Facts & { index?: number })[][] = cases.map(() => []);
    for (const r of results) {
      const i = names.indexOf(r.violatingObject?.metadata?.name ?? '');
      if (i < 0) throw new Error(`gator result for an unknown object: ${r.msg}`);
      const action = r.enforcementAction ?? '(none)';
      if (rego) {
        // The details are the violation object the other Rego legs return; the action is Gatekeeper's.
        out[i]!.push({ ...(r.metadata?.details as unknown as Facts), action });
      } else if (!r.msg.includes(`${separator}[`)) {
        out[i]!.push({ rule: CEL_ERROR_RULE, action, path: r.msg.slice(0, 300) });
      } else {
        out[i]!.push(...policyMessageFacts(r.msg, separator, action));
      }
    }
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The document the generated Rego checks: an AdmissionReview's or Gatekeeper review's object, else the input. */
function checkedDocument(input: unknown): unknown {
  const obj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (!obj(input)) return input;
  if (input['kind'] === 'AdmissionReview') return obj(input['request']) ? (input['request']['object'] ?? null) : null;
  if ((input['kind'] ?? null) === null && obj(input['review'])) return input['review']['object'] ?? null;
  return input;
}

/** A report path as the Rego writes it: `.key`, `[index]` and `["key"]` segments (the first without its dot). */
const REPORT_PATH = /^(?:[A-Za-z_][A-Za-z0-9_]*)?(?:\.[A-Za-z_][A-Za-z0-9_]*|\[\d+\]|\["(?:[^"\\]|\\.)*"\])*/;

/**
 * Facts from one of the package's deny/warn messages, `<rule> <action> <kind>/<name> <path>:
 * <message> (container "<name>" of <list>; value <JSON>)` (the template's _format): rule,
 * action, path and container; the value is cut at 200 characters, so it is not compared.
 */
export function parseRegoMessage(msg: string, doc: unknown): Facts {
  const head = /^(\S+) (deny|warn) /.exec(msg);
  if (!head) throw new Error(`conftest message without rule and action: ${msg}`);
  const d = doc as { kind?: unknown; metadata?: { name?: unknown } } | null;
  const kind = typeof d?.kind === 'string' ? d.kind : '';
  const meta = d?.metadata;
  const docName = typeof meta === 'object' && meta !== null && !Array.isArray(meta) && typeof meta.name === 'string' ? meta.name : '';
  const rest = msg.slice(head[0].length);
  const prefix = `${kind}/${docName} `;
  if (!rest.startsWith(prefix)) throw new Error(`conftest message without ${prefix}: ${msg}`);
  const path = REPORT_PATH.exec(rest.slice(prefix.length))![0];
  if (!rest.slice(prefix.length + path.length).startsWith(': ')) throw new Error(`conftest message with an unreadable path: ${msg}`);
  // The container's name is JSON; the value comes after it.
  const ctr = / \(container ("(?:[^"\\]|\\.)*"|[^ ]*) of (containers|initContainers|ephemeralContainers); value .*\)$/s.exec(msg);
  if (!ctr && !/ \(value .*\)$/s.test(msg)) throw new Error(`conftest message without its facts: ${msg}`);
  const name = ctr ? (JSON.parse(ctr[1]!) as unknown) : undefined;
  return { rule: head[1]!, action: head[2]!, path, ...(ctr ? { list: ctr[2]!, container: typeof name === 'string' ? name : '' } : {}) };
}

/**
 * `conftest test --namespace <package>` over many documents, in one process: each document a
 * JSON file, the parameters as `--data` (the bundle's data.json document). conftest reads a
 * top-level JSON array as one document per element, so such inputs are not given to it.
 */
export async function conftestBatch(regoFile: string, packageName: string, params: unknown, inputs: readonly unknown[]): Promise<Facts[][]> {
  const work = mkdtempSync(join(tmpdir(), 'eci-conftest-'));
  try {
    const policyDir = join(work, 'policy');
    mkdirSync(policyDir);
    writeFileSync(join(policyDir, 'policy.rego'), readFileSync(regoFile));
    const dataFile = join(work, 'data.json');
    writeFileSync(dataFile, JSON.stringify({ [packageName]: { params } }));
    const files = inputs.map((input, i) => {
      if (Array.isArray(input)) throw new Error(`case ${i}: conftest reads a top-level array as one document per element`);
      const file = join(work, `case-${i}.json`);
      writeFileSync(file, JSON.stringify(input));
      return file;
    });
    let stdout: string;
    try {
      ({ stdout } = await run(engine('conftest'), ['test', '--namespace', packageName, '--output', 'json', '--no-color', '-p', policyDir, '--data', dataFile, ...files], { maxBuffer: 512 * 1024 * 1024 }));
    } catch (e) {
      // conftest exits 1 when a document fails; the results are still on stdout.
      const err = e as { stdout?: string; stderr?: string; code?: number };
      if (!err.stdout?.trimStart().startsWith('[')) throw new Error(`conftest failed (${err.code}): ${err.stderr}${err.stdout}`);
      stdout = err.stdout;
    }
    const results = JSON.parse(stdout) as { filename: string; failures?: { msg: string }[]; warnings?: { msg: string }[] }[];
    const out: Facts[][] = inputs.map(() => []);
    for (const r of results) {
      const i = files.indexOf(r.filename);
      if (i < 0) throw new Error(`conftest result for an unknown file: ${r.filename}`);
      const doc = checkedDocument(inputs[i]);
      for (const m of [...(r.failures ?? []), ...(r.warnings ?? [])]) out[i]!.push(parseRegoMessage(m.msg, doc));
    }
    return out;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
