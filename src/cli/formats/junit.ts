// `audit --format junit`: JUnit XML for CI test reports. One test suite per file, one test case
// per resource: a deny violation is a <failure>, warnings go to <system-out>, an input that could
// not be checked is an <error> test case (malformed input never passes).

import type { AuditReport, AuditedResource } from '../../eval/audit.ts';

// XML 1.0 forbids most control characters and lone surrogates, even escaped: they are shown
// as \uXXXX instead.
const xml = (s: string) =>
  s
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff\ud800-\udfff]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');

const name = (r: AuditedResource) => `${r.kind || '(no kind)'} ${r.namespace ? `${r.namespace}/` : ''}${r.name || '(no name)'}${r.item !== undefined ? ` (items[${r.item}])` : ''} at line ${r.position.line}`;

const line = (v: AuditedResource['violations'][number]) =>
  `${v.action.toUpperCase()} ${v.rule} line ${v.line} ${v.path}${v.container !== undefined ? ` (container ${v.container})` : ''}${'value' in v ? ` = ${JSON.stringify(v.value)}` : ''}: ${v.message}`;

export function formatJunit(report: AuditReport): string {
  const files = [...new Set([...report.files, ...report.errors.map((e) => e.file ?? '-')])];
  const suites = files.map((file) => {
    const resources = report.resources.filter((r) => r.file === file);
    const errors = report.errors.filter((e) => (e.file ?? '-') === file);
    const cases = [
      ...resources.map((r) => {
        const deny = r.violations.filter((v) => v.action === 'deny');
        const warn = r.violations.filter((v) => v.action === 'warn');
        const failure = deny.length
          ? `\n      <failure message="${xml(`${deny.length} deny violation${deny.length === 1 ? '' : 's'}: ${[...new Set(deny.map((v) => v.rule))].join(', ')}`)}" type="${xml(deny[0]!.rule)}">${xml(deny.map(line).join('\n'))}</failure>`
          : '';
        const out = warn.length ? `\n      <system-out>${xml(warn.map(line).join('\n'))}</system-out>` : '';
        return `    <testcase classname="${xml(file)}" name="${xml(name(r))}">${failure}${out}${failure || out ? '\n    ' : ''}</testcase>`;
      }),
      ...errors.map(
        (e) =>
          `    <testcase classname="${xml(file)}" name="${xml(`input${e.line !== undefined ? ` at line ${e.line}` : ''}`)}">\n      <error message="${xml(e.message)}" type="${xml(e.code)}">${xml(`${file}${e.line !== undefined ? `:${e.line}` : ''}: ${e.code}: ${e.message}`)}</error>\n    </testcase>`,
      ),
    ];
    const failures = resources.filter((r) => r.violations.some((v) => v.action === 'deny')).length;
    return `  <testsuite name="${xml(file)}" tests="${cases.length}" failures="${failures}" errors="${errors.length}" skipped="0">\n${cases.join('\n')}${cases.length ? '\n' : ''}  </testsuite>`;
  });
  const tests = report.resources.length + report.errors.length;
  const failures = report.resources.filter((r) => r.violations.some((v) => v.action === 'deny')).length;
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="eci-policy audit" tests="${tests}" failures="${failures}" errors="${report.errors.length}">\n${suites.join('\n')}${suites.length ? '\n' : ''}</testsuites>\n`;
}
