// One rule of the reference docs (docs.ts) as plain text, for a terminal (`eci-policy explain`) and the playground:
// the same content as its section of generated/POLICIES.md, without Markdown, prose wrapped.

import type { RuleDoc, RuleSetDoc } from './docs.ts';

/** `text` wrapped at `width` columns, every line after the first indented by `indent`. */
export function wrap(text: string, width: number, indent: string, first = indent): string {
  const lines: string[] = [];
  let line = first;
  let empty = true;
  for (const word of text.split(/\s+/).filter(Boolean)) {
    if (!empty && line.length + 1 + word.length > width) {
      lines.push(line);
      line = indent;
      empty = true;
    }
    line += empty ? word : ` ${word}`;
    empty = false;
  }
  lines.push(line);
  return lines.join('\n');
}

/** A block of text (YAML) shown as written, indented. */
const block = (text: string, indent: string): string =>
  text
    .split('\n')
    .map((l) => (l ? indent + l : l))
    .join('\n');

const LABEL = 12;

function field(label: string, text: string, width: number): string {
  return wrap(text, width, ' '.repeat(LABEL), label.padEnd(LABEL));
}

function section(title: string, text: string, width: number): string {
  return `${title}\n${wrap(text, width, '  ')}`;
}

export function formatExplain(rs: RuleSetDoc, rule: RuleDoc, width = 80): string {
  const out: string[] = [];
  out.push(`${rule.id}: ${rule.title}`);
  out.push(`Rule set ${rs.name} ${rs.version}: ${rs.title} (${rs.spec})`);
  out.push('');
  const action = rule.overridable
    ? `${rule.action} by default; the actions parameter can override it (deny, warn or off)${rule.configuredAction ? `, and ${rs.paramsFile} sets ${rule.configuredAction}` : ''}.`
    : `${rule.action}${rule.actionDetail ? ` ${rule.actionDetail}` : ''}. Fixed: the actions parameter does not name this rule.`;
  out.push(field('Action', action, width));
  out.push(field('Level', rule.level, width));
  if (!rule.params.length) out.push(field('Parameters', 'none', width));
  rule.params.forEach((p, i) => {
    const value = rs.params.find((d) => d.name === p.name)?.value;
    const text = `${p.name}: ${p.description}${value === undefined ? '' : ` In ${rs.paramsFile}: ${value}`}`;
    out.push(field(i === 0 ? 'Parameters' : '', text, width));
  });
  out.push('');
  out.push(section('What', rule.what, width));
  if (rule.why) {
    out.push('');
    out.push(section('Why', rule.why, width));
  }
  out.push('');
  out.push(section('How to fix', rule.fix, width));
  for (const [label, ex] of [
    ['Failing example', rule.failing],
    ['Passing example', rule.passing],
  ] as const) {
    out.push('');
    if (!ex) {
      out.push(`${label}: none in ${rule.examplesFrom}`);
      continue;
    }
    out.push(`${label}: ${ex.fixture}`);
    out.push(wrap(ex.description, width, '  '));
    if (ex.params) out.push(wrap(`Parameters replaced for this example: ${ex.params}`, width, '  '));
    out.push('');
    out.push(block(ex.input, '    '));
    out.push('');
    if (ex.expect) {
      out.push('  Expected violations:');
      out.push('');
      out.push(block(ex.expect, '    '));
    } else out.push('  Expected violations: none');
  }
  return `${out.join('\n')}\n`;
}
