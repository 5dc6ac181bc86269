// `audit --format json`: the report as data, one stable shape for scripts.

import type { AuditReport } from '../../eval/audit.ts';
import { auditExitCode } from '../../eval/audit.ts';

export function formatJson(report: AuditReport): string {
  const violations = report.resources.flatMap((r) => r.violations);
  return `${JSON.stringify(
    {
      summary: {
        files: report.files.length,
        resources: report.resources.length,
        deny: violations.filter((v) => v.action === 'deny').length,
        warn: violations.filter((v) => v.action === 'warn').length,
        errors: report.errors.length,
        exitCode: auditExitCode(report),
      },
      resources: report.resources,
      errors: report.errors,
    },
    null,
    2,
  )}\n`;
}
