// Per-evaluation cost of the generated Rego (issue 12): the WASM bundle through opa-wasm and
// `opa eval` (its query-eval timer), on a typical pod, a violating pod and pods with 1 to 5,000
// containers, for each rule set. Prints one line per measurement; never asserted in tests.
//
//   npx tsx bench/rego-eval.ts [--rule-sets eci,pss_baseline,pss_restricted] [--dir generated] [--no-opa]

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBundleDir } from '../src/eval/bundle-dir.ts';
import { findEngine, PROJECT_ROOT } from '../src/emit/engines.ts';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? undefined : process.argv[i + 1];
};
const RULE_SETS = (arg('--rule-sets') ?? 'eci,pss_baseline,pss_restricted').split(',');
const DIR = arg('--dir') ?? join(PROJECT_ROOT, 'generated');
const OPA = !process.argv.includes('--no-opa');
/** --dump <dir>: write the inputs as <dir>/<rule-set>-<case>.json (for `opa eval --profile`) and stop. */
const DUMP = arg('--dump');

type Obj = Record<string, unknown>;

/** A container meeting every rule of the set (index k: its name). */
function goodContainer(rs: string, k: number): Obj {
  const base = { name: `c${k}`, image: 'registry.example.com/team/app:1.25.3', ports: [{ containerPort: 8080, protocol: 'TCP' }],
    resources: { limits: { memory: '512Mi', cpu: '500m' }, requests: { memory: '256Mi', cpu: '250m' } },
    env: [{ name: 'MODE', value: 'production' }], volumeMounts: [{ name: 'data', mountPath: '/data' }] };
  if (rs === 'eci') return { ...base, securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, capabilities: { add: ['NET_BIND_SERVICE'] } } };
  return { ...base, securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 1000, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } } };
}

function badContainer(rs: string, k: number): Obj {
  const c = goodContainer(rs, k);
  if (rs === 'eci') return { ...c, securityContext: { runAsNonRoot: true, runAsUser: 0, privileged: true, procMount: 'Unmasked', readOnlyRootFilesystem: false, allowPrivilegeEscalation: true, capabilities: { add: ['SYS_ADMIN', 'CAP_NET_RAW'] } } };
  return { ...c, ports: [{ containerPort: 80, hostPort: 80 }], securityContext: { privileged: true, allowPrivilegeEscalation: true, runAsUser: 0, procMount: 'Unmasked', capabilities: { add: ['SYS_ADMIN'] }, seccompProfile: { type: 'Unconfined' } } };
}

function pod(rs: string, containers: Obj[], init: Obj[], bad: boolean): Obj {
  const podSc = rs === 'eci'
    ? { runAsUser: 1000, sysctls: [{ name: bad ? 'kernel.core_pattern' : 'net.core.somaxconn', value: '1024' }] }
    : { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' }, ...(bad ? { sysctls: [{ name: 'kernel.core_pattern', value: 'x' }] } : {}) };
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'web-0', namespace: 'team-a', labels: { app: 'web', 'alibabacloud.com/eci': 'true' }, annotations: { 'example.com/owner': 'team-a' } },
    spec: { securityContext: podSc, containers, initContainers: init,
      volumes: bad ? [{ name: 'data', hostPath: { path: '/var' } }] : [{ name: 'data', emptyDir: {} }] },
  };
}

const typical = (rs: string, bad: boolean) => pod(rs, [goodContainer(rs, 0), bad ? badContainer(rs, 1) : goodContainer(rs, 1)], [goodContainer(rs, 2)], bad);
const wide = (rs: string, n: number, bad = false) => pod(rs, Array.from({ length: n }, (_, k) => (bad ? badContainer(rs, k) : goodContainer(rs, k))), [], false);

function timeWasm(f: () => unknown, budgetMs = 1500): { us: number; minUs: number; runs: number } {
  f();
  const samples: number[] = [];
  const t0 = performance.now();
  while (performance.now() - t0 < budgetMs || samples.length < 3) {
    const s = performance.now();
    f();
    samples.push(performance.now() - s);
    if (samples.length >= 2000) break;
  }
  samples.sort((a, b) => a - b);
  return { us: samples[Math.floor(samples.length / 2)]! * 1000, minUs: samples[0]! * 1000, runs: samples.length };
}

function timeOpa(rs: string, input: Obj, work: string): { ms: number; count: number } {
  const file = join(work, 'input.json');
  writeFileSync(file, JSON.stringify(input));
  const opa = findEngine('opa')!;
  const out = execFileSync(opa, ['eval', '--metrics', '--format', 'json', '--data', join(DIR, rs, 'rego', 'policy.rego'), '--data', join(DIR, rs, 'bundle', 'data.json'),
    '--input', file, `count(data.${rs}.violations)`], { maxBuffer: 1 << 28 }).toString();
  const j = JSON.parse(out) as { result: { expressions: { value: number }[] }[]; metrics: Record<string, number> };
  return { ms: j.metrics['timer_rego_query_eval_ns']! / 1e6, count: j.result[0]!.expressions[0]!.value };
}

if (DUMP) {
  for (const rs of RULE_SETS) {
    writeFileSync(join(DUMP, `${rs}-typical.json`), JSON.stringify(typical(rs, false)));
    writeFileSync(join(DUMP, `${rs}-violating.json`), JSON.stringify(typical(rs, true)));
    for (const n of [1000, 5000]) writeFileSync(join(DUMP, `${rs}-${n}.json`), JSON.stringify(wide(rs, n)));
  }
  process.exit(0);
}

const work = mkdtempSync(join(tmpdir(), 'rego-bench-'));
try {
  for (const rs of RULE_SETS) {
    const policy = await loadBundleDir(join(DIR, rs, 'bundle'), rs);
    const line = (label: string, input: Obj, n: number) => {
      const v = policy.violations(input).length;
      const w = timeWasm(() => policy.violations(input), n >= 1000 ? 4000 : 1500);
      const size = JSON.stringify(input).length;
      let text = `${rs.padEnd(15)} ${label.padEnd(26)} ${String(size).padStart(9)} B  ${String(v).padStart(5)} viol  wasm ${w.us.toFixed(1).padStart(10)} µs (min ${w.minUs.toFixed(1)})` + (n > 0 ? ` ${(w.us / n).toFixed(1)} µs/ctr` : '');
      if (OPA && (n >= 1000 || n === 0)) {
        const o = timeOpa(rs, input, work);
        text += `  opa eval ${o.ms.toFixed(2)} ms (${o.count} viol)`;
      }
      process.stdout.write(`${text}\n`);
    };
    line('typical compliant', typical(rs, false), 0);
    line('typical violating', typical(rs, true), 0);
    for (const n of [1, 10, 100, 1000, 5000]) line(`${n} compliant containers`, wide(rs, n), n);
    line('5000 violating containers', wide(rs, 5000, true), 5000);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
