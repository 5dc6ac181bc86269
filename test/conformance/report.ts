// The conformance report as plain text: per source the applicable cases, how many agree, each
// disagreement in full, and the cases not compared with their reasons summarised.

import type { Facts } from '../harness/facts.ts';
import { ADMISSION_LEGS } from '../harness/matrix.ts';
import { ENGINES, KYVERNO_BUDGET, type CaseResult, type ConformanceReport, type SourceReport } from './run.ts';

const showFinding = (f: Facts) =>
  [f.rule, f.path ?? '', f.container !== undefined ? `(${f.list}/${f.container})` : f.list ? `(${f.list})` : '', 'value' in f && f.value !== undefined ? `= ${JSON.stringify(f.value)}` : '']
    .filter(Boolean)
    .join(' ');

function disagreement(r: CaseResult): string[] {
  const target = `${r.target.ruleSet}: ${r.target.rules === 'all' ? 'whole level' : r.target.rules.join(', ')}${r.target.paths ? ` (paths ${r.target.paths.source})` : ''}`;
  const lines = [
    `  ✗ ${r.case.id}`,
    `      resource: ${r.case.resource}`,
    `      peer: ${r.case.expected}; ours: ${ENGINES.filter((e) => r.verdicts[e]).map((e) => `${e} ${r.verdicts[e]}`).join(', ')}; mapped to ${target}`,
  ];
  // The violations we reported (one engine's, or each engine's where they differ).
  const shown = new Set<string>();
  for (const e of ENGINES) {
    const f = r.findings[e];
    if (!f) continue;
    const text = f.length ? f.map(showFinding).join('; ') : '(none)';
    if (shown.has(text)) continue;
    shown.add(text);
    lines.push(`      violations [${e}]: ${text}`);
  }
  return lines;
}

function summariseNotApplicable(s: SourceReport): string[] {
  const groups = new Map<string, number>();
  for (const n of s.notApplicable) {
    const d = n.decision;
    const key = d.scope === 'peer' ? `${d.entry.peer}: ${d.reason}` : d.scope === 'verdict' ? `${d.entry.peer}, ${n.case.expected} verdicts: ${d.reason}` : `${d.entry.peer}, listed cases: ${d.reason}`;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].sort((a, b) => b[1] - a[1]).map(([reason, n]) => `    ${String(n).padStart(4)}  ${reason.replace(/\s+/g, ' ').trim()}`);
}

export function formatReport(report: ConformanceReport): string {
  const out: string[] = [`peer conformance (PSS ${report.pssVersion})`];
  for (const s of report.sources) {
    out.push(
      '',
      `== ${s.source}: ${s.total} cases; applicable ${s.applicable.length}, agreed ${s.agreed}, disagreed ${s.disagreed.length}, not applicable ${s.notApplicable.length}`,
    );
    const judged = ENGINES.map((e) => `${e} ${s.applicable.filter((r) => r.verdicts[e]).length}`).join(', ');
    out.push(`  judged by: ${judged}`);
    if (s.disagreed.length) {
      out.push(`  disagreements (${s.disagreed.length}):`);
      for (const r of s.disagreed) out.push(...disagreement(r));
    }
    if (s.notApplicable.length) {
      out.push(`  not applicable (${s.notApplicable.length}), by reason:`);
      out.push(...summariseNotApplicable(s));
    }
    const deviations = s.notApplicable.filter((n) => n.ours);
    if (deviations.length) {
      out.push(`  peer deviations from PSS, where we keep our verdict (${deviations.length}; ours by opa-wasm):`);
      for (const n of deviations)
        out.push(
          `    ${n.ours!.verdict === n.case.expected ? '✗ NOT A DEVIATION: ' : ''}${n.case.id}: peer ${n.case.expected}, ours ${n.ours!.verdict}` +
            `${n.ours!.findings.length ? ` (${n.ours!.findings.map(showFinding).join('; ')})` : ''}; our fixture ${n.decision.ourFixture}`,
        );
    }
  }
  const k = report.kyverno;
  const budget =
    k.mode === 'budget'
      ? `budget (the Kyverno CLI costs 1-2 s per object here): ${KYVERNO_BUDGET}; \`npm run conformance -- --kyverno all\` runs every applicable case`
      : k.mode === 'all'
        ? 'every applicable case'
        : 'not run (--kyverno none)';
  out.push('', `admission engines (${ADMISSION_LEGS.join(', ')}): ${k.cases} cases, ${k.objects} distinct objects in ${(k.ms / 1000).toFixed(1)} s; ${budget}`);
  if (report.missingFixtures.length)
    out.push(`our fixtures named by mapping.yaml for peer deviations, not yet written (${report.missingFixtures.length}):`, ...report.missingFixtures.map((f) => `  ${f}`));
  const dis = report.sources.reduce((n, s) => n + s.disagreed.length, 0);
  out.push(`total: ${report.sources.reduce((n, s) => n + s.applicable.length, 0)} applicable, ${dis} disagreed (${(report.ms / 1000).toFixed(1)} s)`);
  return out.join('\n');
}
