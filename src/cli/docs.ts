// `eci-policy docs`: the rule reference as Markdown (generated/POLICIES.md), or a check that it
// is up to date.
//
// Where it lives: generated/POLICIES.md covers every rule set, so it sits beside the
// generated/<rule-set>/ folders, outside what `build` owns and swaps atomically. It is therefore
// its own command with its own `--check`, like `build --check`: `npm run build-policies` runs
// `build` then `docs`, and .ci/run runs both checks, so CI fails when either is stale.

import { existsSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { writeFileAtomically } from '../emit/atomic.ts';
import { COMPILER_VERSION, discoverRuleSets, loadRuleSet } from '../emit/build.ts';
import { render, type HeaderInput } from '../targets/render.ts';
import { formatDiagnostic } from '../ir/diagnostics.ts';
import { lowerDocs, type RuleSetDoc } from '../targets/reference/docs.ts';
import { parseCommand, usageError } from './usage.ts';

export const DOCS_DEFAULT_OUT = 'generated/POLICIES.md';

export const DOCS_USAGE = `Usage: eci-policy docs [--rule-set <name>] [--out <file>] [--check]

Writes the rule reference of every rule set in spec/ (or the one named) as Markdown: for each
rule its action, level, what it checks, why, how to fix a violation, the parameters it reads,
and a failing and a passing example from the fixtures (test/fixtures/<rule-set>/); then the
parameters. npm run build-policies runs it after build.

  --rule-set <name>  only that rule set (spec/<name>.ts, with - for _)
  --out <file>       output file (default: ${DOCS_DEFAULT_OUT})
  --check            render in memory and exit 1 when <file> differs (stale docs)

Exit codes: 0 ok, 1 stale output (--check), 2 usage or input error (a spec, parameter file or
fixture that does not load).`;

/**
 * The rule sets of spec/ (or the one named) read as the build reads them, lowered to the docs
 * model. Bad usage exits 2 through `usageError`; a rule set that does not load prints its
 * diagnostics and gives undefined (exit 2).
 */
export async function loadDocs(ruleSet: string | undefined, usage: string): Promise<RuleSetDoc[] | undefined> {
  const all = discoverRuleSets(resolve('spec'));
  if (!all.length) usageError(usage, 'no rule sets found in spec/');
  // A rule set is named as in generated/ (spec/pss-baseline.ts is pss_baseline); its file name works too.
  const files = all.map((s) => basename(s.specFile, '.ts'));
  const names = files.map((f) => f.replace(/-/g, '_'));
  const sources = ruleSet === undefined ? all : all.filter((_, i) => names[i] === ruleSet || files[i] === ruleSet);
  if (!sources.length) usageError(usage, `no rule set ${ruleSet} in spec/ (rule sets: ${names.join(', ')})`);
  const docs: RuleSetDoc[] = [];
  for (const source of sources) {
    const r = await loadRuleSet(source);
    if (!r.ok) {
      for (const d of r.errors) process.stderr.write(`${formatDiagnostic(d)}\n`);
      process.stderr.write(`eci-policy: ${basename(source.specFile)}: cannot be read, nothing written\n`);
      return undefined;
    }
    docs.push(lowerDocs(r.value, process.cwd()));
  }
  return docs;
}

/** generated/POLICIES.md for these rule sets. */
export function renderDocs(docs: readonly RuleSetDoc[]): string {
  // The header names one rule set and its version; several read `a 1.0.0, b 2.0.0`.
  const named = docs.map((d) => `${d.name} ${d.version}`).join(', ');
  const header: HeaderInput = {
    compilerVersion: COMPILER_VERSION,
    source: docs.map((d) => `${d.spec}, ${d.paramsFile} and ${d.fixturesDir}/`).join('; '),
    ruleSet: named.slice(0, named.lastIndexOf(' ')),
    ruleSetVersion: named.slice(named.lastIndexOf(' ') + 1),
  };
  return render('reference/POLICIES.md', { ruleSets: docs }, header);
}

export async function docsCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    DOCS_USAGE,
    argv,
    {
      'rule-set': { type: 'string' },
      out: { type: 'string', default: DOCS_DEFAULT_OUT },
      check: { type: 'boolean', default: false },
    },
    false,
  );
  if (!parsed) return 0;
  const { values } = parsed;
  if (values.out === '') usageError(DOCS_USAGE, '--out needs a file name');
  const docs = await loadDocs(values['rule-set'], DOCS_USAGE);
  if (!docs) return 2;
  const text = renderDocs(docs);
  const rules = docs.reduce((n, d) => n + d.rules.length, 0);
  if (values.check) {
    const current = existsSync(values.out) ? readFileSync(values.out, 'utf8') : undefined;
    if (current === text) {
      process.stdout.write(`eci-policy: ${values.out} is up to date\n`);
      return 0;
    }
    process.stderr.write(`eci-policy: ${values.out} is ${current === undefined ? 'missing' : 'stale'}; run npm run build-policies\n`);
    return 1;
  }
  writeFileAtomically(values.out, text);
  process.stdout.write(`eci-policy: wrote ${values.out} (${docs.length} rule set${docs.length === 1 ? '' : 's'}, ${rules} rules)\n`);
  return 0;
}
