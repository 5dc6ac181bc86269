// `eci-policy build`: compile rule sets to generated/<rule-set>/, or check that it is up to date.

import { basename, join, resolve } from 'node:path';
import { compileRuleSet, discoverRuleSets, readTree, withKeptFolders, writeCompiled, type RuleSetSource } from '../emit/build.ts';
import { formatDiagnostic } from '../ir/diagnostics.ts';
import { parseCommand, usageError } from './usage.ts';

export const BUILD_USAGE = `Usage: eci-policy build [--spec <file.ts>]... [--params <file.yaml>] [--out <dir>] [--check] [--no-bundle]

Compiles every rule set in spec/ (or the --spec files) to generated/<rule-set>/:
rego/, the OPA WASM bundle in bundle/, kyverno/ (ClusterPolicy), kyverno-vpol/ (ValidatingPolicies),
vap/ (ValidatingAdmissionPolicies and bindings), gatekeeper/ (ConstraintTemplate and constraints),
playground/ (a page that evaluates pasted manifests in the browser, offline; built with the
bundle) and reference/ (docs/output.md describes each).

  --spec <file>    a rule set written in the DSL (default: every spec/*.ts)
  --params <file>  its parameter file (default: spec/<name>.params.yaml beside the spec)
  --out <dir>      output folder (default: generated)
  --check          build in memory and exit 1 when <out> differs (stale artefacts)
  --no-bundle      do not compile the WASM bundle (keeps the existing one, and the playground)

Exit codes: 0 ok, 1 stale output (--check), 2 usage or input error.`;


export async function build(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    BUILD_USAGE,
    argv,
    {
      spec: { type: 'string', multiple: true },
      params: { type: 'string' },
      out: { type: 'string', default: 'generated' },
      check: { type: 'boolean', default: false },
      'no-bundle': { type: 'boolean', default: false },
    },
    false,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  if (values.params && (values.spec?.length ?? 0) !== 1) usageError(BUILD_USAGE, '--params needs exactly one --spec');
  const sources: RuleSetSource[] = values.spec?.length
    ? values.spec.map((s) => ({
        specFile: resolve(s),
        paramsFile: resolve(values.params ?? join(resolve(s, '..'), `${basename(s, '.ts')}.params.yaml`)),
      }))
    : discoverRuleSets(resolve('spec'));
  if (!sources.length) usageError(BUILD_USAGE, 'no rule sets found in spec/');

  let status = 0;
  for (const source of sources) {
    const r = await compileRuleSet(source, values['no-bundle'] ? { opa: null } : {});
    if (!r.ok) {
      for (const d of r.errors) process.stderr.write(`${formatDiagnostic(d)}\n`);
      process.stderr.write(`eci-policy: ${basename(source.specFile)}: build failed, nothing written\n`);
      return 2;
    }
    const compiled = r.value;
    for (const s of compiled.skipped) process.stderr.write(`eci-policy: skipped ${s}\n`);
    const dest = join(values.out, compiled.ruleSet.name);
    if (values.check) {
      const stale = diffTrees(readTree(dest), withKeptFolders(compiled, dest));
      if (stale.length) {
        status = 1;
        process.stderr.write(`eci-policy: ${dest} is stale; run npm run build-policies:\n${stale.map((l) => `  ${l}`).join('\n')}\n`);
      } else process.stdout.write(`eci-policy: ${dest} is up to date\n`);
    } else {
      writeCompiled(values.out, compiled);
      process.stdout.write(`eci-policy: wrote ${dest} (${compiled.files.size} files, ${compiled.ruleSet.rules.length} rules)\n`);
    }
  }
  return status;
}

function diffTrees(current: ReadonlyMap<string, string | Uint8Array>, fresh: ReadonlyMap<string, string | Uint8Array>): string[] {
  const bytes = (c: string | Uint8Array) => (typeof c === 'string' ? Buffer.from(c) : Buffer.from(c));
  const out: string[] = [];
  for (const rel of [...new Set([...current.keys(), ...fresh.keys()])].sort()) {
    const a = current.get(rel);
    const b = fresh.get(rel);
    if (a === undefined) out.push(`missing  ${rel}`);
    else if (b === undefined) out.push(`extra    ${rel}`);
    else if (!bytes(a).equals(bytes(b))) out.push(`differs  ${rel}`, ...changedLines(bytes(a), bytes(b)).map((l) => `    ${l}`));
  }
  return out;
}

const SHOWN_LINES = 12;

/**
 * The first changed region of a text file, as a fresh build would change it (`-` committed,
 * `+` fresh): the lines between the common prefix and suffix, at most SHOWN_LINES of each.
 */
export function changedLines(committed: Buffer, fresh: Buffer): string[] {
  if (committed.includes(0) || fresh.includes(0)) return [`(binary: ${committed.length} bytes committed, ${fresh.length} bytes fresh)`];
  const a = committed.toString('utf8').split('\n');
  const b = fresh.toString('utf8').split('\n');
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const side = (lines: string[], mark: string) => [
    ...lines.slice(0, SHOWN_LINES).map((l) => `${mark} ${l.length > 160 ? `${l.slice(0, 157)}...` : l}`),
    ...(lines.length > SHOWN_LINES ? [`${mark} ... ${lines.length - SHOWN_LINES} more lines`] : []),
  ];
  return [`@@ line ${start + 1} @@`, ...side(a.slice(start, endA), '-'), ...side(b.slice(start, endB), '+')];
}

