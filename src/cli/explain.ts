// `eci-policy explain <RULE-ID>`: one rule of the reference (what generated/POLICIES.md says
// about it) as plain text. Rule IDs are matched case-insensitively; an unknown one exits 2 with
// the closest IDs.

import type { RuleDoc, RuleSetDoc } from '../targets/reference/docs.ts';
import { loadDocs } from './docs.ts';
import { formatExplain } from '../targets/reference/explain.ts';
import { parseCommand, usageError } from './usage.ts';

export const EXPLAIN_USAGE = `Usage: eci-policy explain <RULE-ID> [--rule-set <name>]

Prints one rule for the terminal: its action, level, what it checks, why, how to fix a
violation, the parameters it reads, and a failing and a passing example from the fixtures (the
rule's section of generated/POLICIES.md). The ID is matched case-insensitively (eci-ctr-001).

  --rule-set <name>  look in that rule set only (spec/<name>.ts, with - for _; default: every rule set in spec/)

Exit codes: 0 ok, 2 usage error, an unknown rule ID (the closest IDs are suggested), or a rule
set that does not load.`;

/** Edit distance counting a swap of two neighbours as one edit (ECI-POD-030 → ECI-POD-003). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/**
 * The IDs closest to `query` (upper-cased): those containing it (`CTR-001`), then those within
 * an edit distance of 3, nearest first; at most five.
 */
export function closeMatches(query: string, ids: readonly string[]): string[] {
  const q = query.toUpperCase();
  const scored = ids
    .map((id) => ({ id, d: q.length >= 3 && id.includes(q) ? 0 : distance(q, id) }))
    .filter((s) => s.d <= 3)
    .sort((a, b) => a.d - b.d || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return [...new Set(scored.map((s) => s.id))].slice(0, 5);
}

export async function explainCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(
    EXPLAIN_USAGE,
    argv,
    {
      'rule-set': { type: 'string' },
    },
    true,
  );
  if (!parsed) return 0;
  const { values, positionals } = parsed;
  if (positionals.length !== 1) usageError(EXPLAIN_USAGE, positionals.length ? 'name one rule ID' : 'name the rule to explain, e.g. ECI-CTR-001');
  const query = positionals[0]!;
  const docs = await loadDocs(values['rule-set'], EXPLAIN_USAGE);
  if (!docs) return 2;

  const hits: { rs: RuleSetDoc; rule: RuleDoc }[] = docs.flatMap((rs) =>
    rs.rules.filter((r) => r.id.toUpperCase() === query.toUpperCase()).map((rule) => ({ rs, rule })),
  );
  if (hits.length > 1)
    usageError(EXPLAIN_USAGE, `${query} is a rule of several rule sets (${hits.map((h) => h.rs.name).join(', ')}): choose one with --rule-set`);
  const hit = hits[0];
  if (!hit) {
    const ids = docs.flatMap((rs) => rs.rules.map((r) => r.id));
    const near = closeMatches(query, ids);
    const where = values['rule-set'] ? `rule set ${values['rule-set']}` : 'spec/';
    process.stderr.write(
      `eci-policy: no rule ${query} in ${where}; ${near.length ? `did you mean ${near.join(', ')}?` : `the rules are ${ids.join(', ')}`}\n`,
    );
    return 2;
  }
  // Wrapped for the terminal it is shown on; 80 columns when piped, so the output is stable.
  const width = process.stdout.isTTY ? Math.max(60, Math.min(process.stdout.columns || 80, 100)) : 80;
  process.stdout.write(formatExplain(hit.rs, hit.rule, width));
  return 0;
}
