// Which compiled bundle a command uses: generated/<rule-set>/bundle, the only one when no rule
// set is named.

import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { usageError } from './usage.ts';

export function bundleFor(ruleSet: string | undefined, usage: string): string {
  if (ruleSet) return join('generated', ruleSet, 'bundle');
  const sets = existsSync('generated') ? readdirSync('generated').filter((d) => existsSync(join('generated', d, 'bundle', 'policy.wasm'))) : [];
  if (sets.length === 1) return join('generated', sets[0]!, 'bundle');
  usageError(usage, sets.length ? `several rule sets in generated/ (${sets.join(', ')}): choose one with --rule-set` : 'no bundle in generated/: run npm run build-policies, or pass --bundle');
}
