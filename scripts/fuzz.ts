// npm run fuzz -- [--rule-set R] [--cases N] [--seed S] [--kyverno-every K]: a longer differential
// campaign (rule sets: eci, the default, pss_baseline, pss_restricted).
// Disagreeing cases are shrunk and written to test/fuzz/findings/ as fixture skeletons with
// their seed (the first 10 of each batch are shrunk, up to 500 evaluations or 60 s each).

import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT } from '../src/emit/engines.ts';
import { compiled } from '../test/harness/compiled.ts';
import { fuzz, fuzzTarget } from '../test/fuzz/differential.ts';

const { values } = parseArgs({
  options: {
    cases: { type: 'string', default: '10000' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    'kyverno-every': { type: 'string', default: '50' },
    'batch': { type: 'string', default: '5000' },
    'rule-set': { type: 'string', default: 'eci' },
  },
});
const total = Number(values.cases);
const seed = Number(values.seed);
const batch = Number(values.batch);
const ruleSet = values['rule-set'];
fuzzTarget(ruleSet); // an unknown rule set fails before anything is compiled
const c = await compiled(ruleSet);
let disagreements = 0;
const started = Date.now();
const reach: Record<string, number> = {};
// Batches keep memory bounded; each batch has its own seed, derived from the campaign's.
for (let done = 0, b = 0; done < total; done += batch, b++) {
  const r = await fuzz(c, {
    cases: Math.min(batch, total - done),
    seed: seed + b,
    kyvernoEvery: Number(values['kyverno-every']),
    findingsDir: join(PROJECT_ROOT, 'test', 'fuzz', 'findings'),
  });
  disagreements += r.disagreements.length;
  for (const [k, n] of Object.entries(r.reach)) reach[k] = (reach[k] ?? 0) + n;
  for (const d of r.disagreements) {
    const { steps, evaluations, ms, stopped } = d.shrink;
    const shrink = evaluations || !stopped ? `shrunk in ${steps} steps (${evaluations} evaluations, ${ms} ms${stopped ? `, stopped at ${stopped}` : ''})` : `not shrunk: ${stopped}`;
    process.stdout.write(`disagreement: ${d.file} (${d.disagree.join(', ')} vs opa-wasm; ${shrink})\n`);
  }
  process.stdout.write(`[fuzz] seeds ${seed}..${seed + b}: ${done + r.cases}/${total} cases, ${disagreements} disagreements, ${Math.round((Date.now() - started) / 1000)} s\n`);
}
process.stdout.write(`[fuzz] reach: ${JSON.stringify(reach)}\n`);
process.exitCode = disagreements ? 1 : 0;
