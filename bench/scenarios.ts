// One benchmark scenario per process, so peak memory (maxRSS) belongs to that scenario alone.
// Run by bench/run.ts; prints one JSON line {ms, maxRssMiB, detail}.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadBundleDir } from '../src/eval/bundle-dir.ts';
import { readManifests } from '../src/manifests/read.ts';
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

/** `eci-policy audit --rule-set eci --format json <file>` as a user runs it: wall time, CPU time and peak memory (GNU time, when there), what it reported. */
function cliAudit(file: string): string {
  const cli = [process.execPath, '--import', 'tsx', join(PROJECT_ROOT, 'src', 'cli', 'main.ts'), 'audit', '--rule-set', 'eci', '--format', 'json', file];
  const time = existsSync('/usr/bin/time') ? ['/usr/bin/time', '-f', 'maxrss-kib %M cpu-s %U %S'] : [];
  const [command, ...args] = [...time, ...cli];
  const t0 = performance.now();
  const r = spawnSync(command!, args, { cwd: PROJECT_ROOT, encoding: 'utf8', maxBuffer: 1 << 30 });
  const ms = Math.round(performance.now() - t0);
  if (r.status !== 1) throw new Error(`audit exited ${r.status}: ${r.stderr}`);
  const { summary } = JSON.parse(r.stdout) as { summary: { resources: number; deny: number } };
  const usage = /maxrss-kib (\d+) cpu-s ([\d.]+) ([\d.]+)/.exec(r.stderr);
  const measured = usage ? `, CPU ${(Number(usage[2]) + Number(usage[3])).toFixed(1)} s, peak RSS ${Math.round(Number(usage[1]) / 1024)} MiB` : '';
  return `${ms} ms end to end, ${summary.resources} pods, ${summary.deny} denied, ${availableParallelism()} workers${measured}`;
}

/** readManifests alone (this thread, every object, no evaluation), in MB/s. */
function readRate(file: string): string {
  const bytes = readFileSync(file);
  const t0 = performance.now();
  let objects = 0;
  for (const e of readManifests(bytes, file)) if (e.kind === 'object') objects++;
  const s = (performance.now() - t0) / 1000;
  return `${(bytes.length / 1e6 / s).toFixed(1)} MB/s (${objects} objects in ${Math.round(s * 1000)} ms)`;
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
    // End to end through the real CLI (process start, tsx, reading, the worker pool, the JSON
    // report), on the same 20 MB of pods as multi-document YAML and as a `kubectl -o json` List.
    const dir = mkdtempSync(join(tmpdir(), 'eci-bench-'));
    try {
      const docs: string[] = [];
      let size = 0;
      for (let i = 0; size < 20e6; i++) {
        const d = stringify(pod(i));
        docs.push(d);
        size += d.length + 4;
      }
      const yamlFile = join(dir, 'big.yaml');
      writeFileSync(yamlFile, docs.join('---\n'));
      docs.length = 0;
      // kubectl indents its JSON by 4; as many pods as make 20 MB.
      const items: string[] = [];
      size = 0;
      for (let i = 0; size < 20e6; i++) {
        const d = JSON.stringify(pod(i), null, 4).replaceAll('\n', '\n        ');
        items.push(d);
        size += d.length + 10;
      }
      const jsonFile = join(dir, 'big.json');
      writeFileSync(jsonFile, `{\n    "apiVersion": "v1",\n    "items": [\n        ${items.join(',\n        ')}\n    ],\n    "kind": "List"\n}\n`);
      items.length = 0;
      return [yamlFile, jsonFile]
        .map((file) => `${file.endsWith('.json') ? 'JSON' : 'YAML'} ${(statSync(file).size / 1e6).toFixed(1)} MB: read alone ${readRate(file)}; ${cliAudit(file)}`)
        .join('; ');
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
