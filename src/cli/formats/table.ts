// `audit --format table`: for people. Grouped by resource; each violation with its rule,
// container, field path, value, line and the rule's fix hint.

import type { AuditReport, LocatedViolation } from '../../eval/audit.ts';
import type { RuleReference } from '../../targets/reference/lower.ts';

// Text from manifests reaches a terminal: control characters (an ANSI escape in a pod name)
// are shown as \uXXXX, never sent raw.
const visible = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

function where(v: LocatedViolation): string {
  return v.list ? `${v.list}/${v.container ?? ''}` : 'pod';
}

function shown(value: unknown): string {
  if (value === undefined) return '';
  if (value === null) return ' (not set)';
  const text = JSON.stringify(value) ?? String(value);
  return ` = ${text.length > 80 ? `${text.slice(0, 77)}...` : text}`;
}

export function formatTable(report: AuditReport, reference?: RuleReference): string {
  const fix = new Map(reference?.rules.map((r) => [r.id, r.fix]) ?? []);
  const out: string[] = [];
  let deny = 0;
  let warn = 0;
  let flagged = 0;
  for (const r of report.resources) {
    if (!r.violations.length) continue;
    flagged++;
    const id = `${r.kind || '(no kind)'} ${r.namespace ? `${r.namespace}/` : ''}${r.name || '(no name)'}`;
    out.push(visible(`${r.file}:${r.position.line}  ${id}`));
    for (const v of r.violations) {
      if (v.action === 'deny') deny++;
      else warn++;
      out.push(visible(`  ${v.action.toUpperCase().padEnd(4)}  ${v.rule}  ${where(v)}  line ${v.line}  ${v.path}${shown(v.value)}`));
      out.push(visible(`        ${v.message.replace(/[\r\n]+/g, ' ')}`));
      const hint = fix.get(v.rule);
      if (hint) out.push(`        fix: ${hint.replace(/[\r\n]+/g, ' ')}`);
    }
    out.push('');
  }
  for (const e of report.errors) out.push(visible(`ERROR ${e.file ?? ''}${e.line !== undefined ? `:${e.line}` : ''}  ${e.code}: ${e.message}`));
  if (report.errors.length) out.push('');
  out.push(
    `${report.resources.length} resource${report.resources.length === 1 ? '' : 's'} checked in ${report.files.length} file${report.files.length === 1 ? '' : 's'}: ` +
      `${flagged} with violations (${deny} deny, ${warn} warn)` +
      (report.errors.length ? `; ${report.errors.length} input${report.errors.length === 1 ? '' : 's'} could not be checked` : ''),
  );
  return `${out.join('\n')}\n`;
}
