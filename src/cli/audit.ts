// `eci-policy audit`: evaluate manifests with a compiled WASM bundle and report per resource.

import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { auditExitCode, type AuditReport } from '../eval/audit.ts';
import { auditParallel, PARALLEL_MIN_BYTES } from '../eval/audit-parallel.ts';
import { loadBundleDir } from '../eval/bundle-dir.ts';
import { formatDiagnostic } from '../ir/diagnostics.ts';
import { DEFAULT_LIMITS } from '../manifests/read.ts';
import type { RuleReference } from '../targets/reference/lower.ts';
import { COMPILER_VERSION } from '../emit/build.ts';
import { formatJson } from './formats/json.ts';
import { formatJunit } from './formats/junit.ts';
import { formatSarif } from './formats/sarif.ts';
import { formatTable } from './formats/table.ts';
import { bundleFor } from './bundles.ts';
import { parseCommand, usageError } from './usage.ts';

export const AUDIT_USAGE = `Usage: eci-policy audit <file|folder|->... [--format table|json|junit|sarif] [--rule-set <name>] [--bundle <dir>] [--max-bytes <n>] [--workers <n>]

Evaluates Kubernetes manifests with a compiled policy bundle (OPA WASM): multi-document YAML,
JSON, List exports (kubectl get pods -A -o yaml) and Helm-rendered output. Folders are read
recursively (*.yaml, *.yml, *.json); '-' reads stdin.

  --format <f>      table (default), json, junit (JUnit XML) or sarif (SARIF 2.1.0)
  --rule-set <name> use generated/<name>/bundle (default: the only rule set in generated/)
  --bundle <dir>    use this bundle folder (policy.wasm, data.json, .manifest)
  --max-bytes <n>   refuse input files larger than this (default ${DEFAULT_LIMITS.maxFileBytes})
  --workers <n>     worker threads (0: none); default one per core when the inputs reach
                    ${PARALLEL_MIN_BYTES / 1024 / 1024} MiB, else none. The report is the same either way.

A document that cannot be read (bad YAML, not UTF-8, an alias bomb, nested deeper than
${DEFAULT_LIMITS.maxDepth} levels) is reported with its file and line; the other documents are still checked.

Exit codes: 0 no deny violation, 1 deny violations, 2 usage error or an input that could not
be checked (malformed input never passes).`;

const FORMATS = ['table', 'json', 'junit', 'sarif'] as const;
type Format = (typeof FORMATS)[number];

export async function auditCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    AUDIT_USAGE,
    argv,
    {
      format: { type: 'string', default: 'table' },
      'rule-set': { type: 'string' },
      bundle: { type: 'string' },
      'max-bytes': { type: 'string' },
      workers: { type: 'string' },
    },
    true,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (!positionals.length) usageError(AUDIT_USAGE, 'name the manifests to audit (files, folders, or - for stdin)');
  if (!(FORMATS as readonly string[]).includes(values.format)) usageError(AUDIT_USAGE, `unknown format ${values.format} (${FORMATS.join(', ')})`);
  const maxBytes = values['max-bytes'] === undefined ? DEFAULT_LIMITS.maxFileBytes : Number(values['max-bytes']);
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) usageError(AUDIT_USAGE, `--max-bytes must be a positive integer, not ${values['max-bytes']}`);
  const workers = values.workers === undefined ? undefined : Number(values.workers);
  if (workers !== undefined && (!Number.isSafeInteger(workers) || workers < 0 || workers > 256)) usageError(AUDIT_USAGE, `--workers must be an integer from 0 to 256, not ${values.workers}`);
  if (values.bundle && values['rule-set']) usageError(AUDIT_USAGE, '--bundle and --rule-set are alternatives');

  const bundleDir = resolve(values.bundle ?? bundleFor(values['rule-set'], AUDIT_USAGE));
  let policy;
  let root: string | undefined;
  let reference: RuleReference | undefined;
  try {
    const manifest = JSON.parse(readFileSync(join(bundleDir, '.manifest'), 'utf8')) as { roots?: unknown };
    root = Array.isArray(manifest.roots) && typeof manifest.roots[0] === 'string' ? manifest.roots[0] : undefined;
    if (!root) throw new Error(`${join(bundleDir, '.manifest')} names no root`);
    policy = await loadBundleDir(bundleDir, root);
    const refFile = join(bundleDir, '..', 'reference', 'rules.json');
    if (existsSync(refFile)) reference = JSON.parse(readFileSync(refFile, 'utf8')) as RuleReference;
  } catch (e) {
    process.stderr.write(`eci-policy: cannot load the bundle in ${bundleDir}: ${(e as Error).message}\n`);
    return 2;
  }

  // Progress only for people watching a terminal: never in CI logs or piped output.
  const progress = process.stderr.isTTY && !process.env['CI'];
  let report: AuditReport;
  try {
    report = await auditParallel(policy, { dir: bundleDir, root }, positionals, {
      limits: { ...DEFAULT_LIMITS, maxFileBytes: maxBytes },
      ...(workers === undefined ? {} : { workers }),
      ...(progress ? { onFile: (file, done, total) => process.stderr.write(`\r\x1b[K[${done}/${total}] ${file}`) } : {}),
    });
  } catch (e) {
    // A worker that failed: nothing can be said about the inputs, which never pass unchecked.
    process.stderr.write(`${progress ? '\r\x1b[K' : ''}eci-policy: the audit failed: ${(e as Error).message}\n`);
    return 2;
  }
  if (progress) process.stderr.write('\r\x1b[K');

  const format = values.format as Format;
  // The table lists them itself; machine formats keep stdout parseable and say it on stderr too.
  if (format !== 'table') for (const e of report.errors) process.stderr.write(`${formatDiagnostic(e)}\n`);
  const formatted =
    format === 'json' ? formatJson(report)
    : format === 'junit' ? formatJunit(report)
    : format === 'sarif' ? formatSarif(report, reference, COMPILER_VERSION)
    : formatTable(report, reference);
  process.stdout.write(formatted);
  return auditExitCode(report);
}
