// One benchmark scenario per process, so peak memory (maxRSS) belongs to that scenario alone.
// Run by bench/run.ts; prints one JSON line {ms, maxRssMiB, detail}.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { audit } from '../src/eval/audit.ts';
import { loadBundleDir } from '../src/eval/wasm.ts';
import { compileOrThrow } from '../src/emit/build.ts';
import { PROJECT_ROOT } from '../src/emit/engines.ts';

const BUNDLE = join(PROJECT_ROOT, 'generated', 'eci', 'bundle');
const labels = { 'alibabacloud.com/eci': 'true' };

function pod(i: number, containers = 1) {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `p${i}`, namespace: 'team-a', labels },
    spec: {
      securityContext: { sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] },
      containers: Array.from({ length: containers }, (_, k) => ({
        name: `c${k}`,
        image: 'nginx:1.25',
        securityContext: { capabilities: { add: i % 10 === 0 ? ['SYS_TIME'] : ['NET_ADMIN'] }, runAsUser: 1000 },
        resources: { limits: { memory: '1Gi' } },
        env: Array.from({ length: 10 }, (_, e) => ({ name: `E${e}`, value: 'v'.repeat(40) })),
      })),
    },
  };
}

const scenarios: Record<string, () => Promise<string>> = {
  async build() {
    await compileOrThrow({ specFile: join(PROJECT_ROOT, 'spec', 'eci.ts'), paramsFile: join(PROJECT_ROOT, 'spec', 'eci.params.yaml') });
    return 'spec/eci.ts → Rego, Kyverno, WASM bundle (in memory)';
  },
  async 'wasm-pods'() {
    const policy = await loadBundleDir(BUNDLE, 'eci');
    let n = 0;
    for (let i = 0; i < 2000; i++) n += policy.violations(pod(i)).length;
    return `2,000 pods, ${n} violations`;
  },
  async 'audit-20mb'() {
    const dir = mkdtempSync(join(tmpdir(), 'eci-bench-'));
    try {
      const docs: string[] = [];
      let size = 0;
      for (let i = 0; size < 20e6; i++) {
        const d = stringify(pod(i));
        docs.push(d);
        size += d.length + 4;
      }
      const file = join(dir, 'big.yaml');
      writeFileSync(file, docs.join('---\n'));
      docs.length = 0;
      const policy = await loadBundleDir(BUNDLE, 'eci');
      const t0 = performance.now();
      const report = audit(policy, [file]);
      const ms = Math.round(performance.now() - t0);
      return `${(size / 1e6).toFixed(1)} MB, ${report.resources.length} pods audited in ${ms} ms (generation excluded)`;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  },
  async 'wasm-5000-containers'() {
    const policy = await loadBundleDir(BUNDLE, 'eci');
    const v = policy.violations(pod(0, 5000));
    return `1 pod, 5,000 containers, ${v.length} violations`;
  },
};

const name = process.argv[2] ?? '';
const run = scenarios[name];
if (!run) throw new Error(`unknown scenario ${name}: ${Object.keys(scenarios).join(', ')}`);
const t0 = performance.now();
const detail = await run();
const ms = Math.round(performance.now() - t0);
process.stdout.write(`${JSON.stringify({ ms, maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), detail })}\n`);
