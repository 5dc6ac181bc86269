// `audit --format sarif`: SARIF 2.1.0 for code scanning. Each violation is a result at the file
// and line of the offending field; an input that could not be checked is an `error` result of
// the rule `eci-policy/input`, so it shows up where violations do (malformed input never passes).
// Spec: https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html

import { relative, isAbsolute, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AuditReport } from '../../eval/audit.ts';
import type { RuleReference } from '../../targets/reference/lower.ts';

const INPUT_RULE = 'eci-policy/input';

/** A file as a URI reference: relative to the working directory when inside it, else file://. */
export function artifactUri(file: string, cwd = process.cwd()): { uri: string; uriBaseId?: string } {
  if (file === '-') return { uri: 'stdin' };
  const abs = resolve(cwd, file);
  const rel = relative(cwd, abs);
  if (!rel.startsWith('..') && !isAbsolute(rel)) return { uri: rel.split(sep).map(encodeURIComponent).join('/'), uriBaseId: '%SRCROOT%' };
  return { uri: pathToFileURL(abs).href };
}

export function formatSarif(report: AuditReport, reference: RuleReference | undefined, toolVersion: string, cwd = process.cwd()): string {
  const known = reference?.rules ?? [];
  const ruleIds = [...known.map((r) => r.id), INPUT_RULE];
  for (const r of report.resources) for (const v of r.violations) if (!ruleIds.includes(v.rule)) ruleIds.push(v.rule);
  const rules = ruleIds.map((id) => {
    const ref = known.find((r) => r.id === id);
    if (id === INPUT_RULE)
      return {
        id,
        name: 'InputNotChecked',
        shortDescription: { text: 'A manifest or document could not be checked' },
        fullDescription: { text: 'The input is not UTF-8, not valid YAML or JSON, too large, too deep, an alias bomb, or not a Kubernetes object. It fails the audit: malformed input never passes.' },
        help: { text: 'Fix the document so that kubectl could apply it.' },
        defaultConfiguration: { level: 'error' },
      };
    return {
      id,
      ...(ref ? { name: ref.title.replace(/[^A-Za-z0-9]+(.)?/g, (_, c: string | undefined) => (c ?? '').toUpperCase()) } : {}),
      shortDescription: { text: ref?.title ?? id },
      ...(ref ? { fullDescription: { text: ref.description }, help: { text: ref.fix } } : {}),
      defaultConfiguration: { level: ref?.action === 'warn' ? 'warning' : 'error' },
    };
  });
  const results = [
    ...report.resources.flatMap((r) =>
      r.violations.map((v) => ({
        ruleId: v.rule,
        ruleIndex: ruleIds.indexOf(v.rule),
        level: v.action === 'deny' ? 'error' : 'warning',
        message: { text: `${v.message} (${r.kind} ${r.namespace ? `${r.namespace}/` : ''}${r.name}${v.container !== undefined ? `, container ${v.container}` : ''}: ${v.path})` },
        locations: [
          {
            physicalLocation: { artifactLocation: artifactUri(r.file, cwd), region: { startLine: v.line, startColumn: v.column } },
            logicalLocations: [{ fullyQualifiedName: `${r.kind}/${r.namespace}/${r.name}/${v.path}`, kind: 'member' }],
          },
        ],
        partialFingerprints: { 'eciPolicyViolation/v1': `${r.kind}/${r.namespace}/${r.name}/${v.rule}/${v.path}` },
        properties: { kind: r.kind, namespace: r.namespace, name: r.name, path: v.path, action: v.action, ...(v.list !== undefined ? { list: v.list, container: v.container } : {}), ...('value' in v ? { value: v.value } : {}) },
      })),
    ),
    ...report.errors.map((e) => ({
      ruleId: INPUT_RULE,
      ruleIndex: ruleIds.indexOf(INPUT_RULE),
      level: 'error',
      message: { text: `${e.code}: ${e.message}` },
      locations: [{ physicalLocation: { artifactLocation: artifactUri(e.file ?? '-', cwd), ...(e.line !== undefined ? { region: { startLine: e.line, ...(e.column !== undefined ? { startColumn: e.column } : {}) } } : {}) } }],
    })),
  ];
  const log = {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: { driver: { name: 'eci-policy', version: toolVersion, semanticVersion: toolVersion, informationUri: 'https://www.npmjs.com/package/eci-policy', rules } },
        originalUriBaseIds: { '%SRCROOT%': { uri: pathToFileURL(`${cwd}${sep}`).href } },
        invocations: [{ executionSuccessful: true }],
        results,
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}
