// npm run bench: time and peak memory of each scenario (one process each), against targets.
// Exits 1 when a target is missed. Figures depend on the machine; the targets are for CI-class
// machines (2 cores).

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../src/emit/engines.ts';

interface Target {
  readonly maxMs: number;
  readonly maxRssMiB: number;
  readonly why: string;
}

const targets: Record<string, Target> = {
  build: { maxMs: 60_000, maxRssMiB: 1024, why: 'a build is part of every CI run' },
  'wasm-pods': { maxMs: 20_000, maxRssMiB: 512, why: 'at least 100 pods/s through the WASM bundle' },
  'audit-20mb': { maxMs: 120_000, maxRssMiB: 768, why: 'a 20 MB kubectl export audited with bounded memory' },
  'wasm-5000-containers': { maxMs: 30_000, maxRssMiB: 1024, why: 'the widest pod the input-limit tests use' },
};

const only = process.argv.slice(2);
let missed = 0;
const rows: string[][] = [['scenario', 'ms', 'max RSS MiB', 'target', 'result', 'detail']];
for (const [name, t] of Object.entries(targets)) {
  if (only.length && !only.includes(name)) continue;
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'bench', 'scenarios.ts'), name], { cwd: PROJECT_ROOT, encoding: 'utf8', maxBuffer: 16 << 20 });
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as { ms: number; maxRssMiB: number; detail: string };
  const ok = r.ms <= t.maxMs && r.maxRssMiB <= t.maxRssMiB;
  if (!ok) missed++;
  rows.push([name, String(r.ms), String(r.maxRssMiB), `≤ ${t.maxMs} ms, ≤ ${t.maxRssMiB} MiB (${t.why})`, ok ? 'ok' : 'MISSED', r.detail]);
  process.stderr.write(`${name}: ${r.ms} ms, ${r.maxRssMiB} MiB\n`);
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
for (const r of rows) process.stdout.write(`${r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()}\n`);
process.exitCode = missed ? 1 : 0;
