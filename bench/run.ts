// npm run bench: the side-by-side benchmark. Every figure is measured in this run, next to
// anchors measured in the same run (a trivial policy, JSON itself, gatekeeper-library's and
// kyverno/policies' PSS policies), and the targets are ratios to those anchors (plus a few
// absolute ceilings). Prints tables and writes bench/results.json. It is a measurement, not a
// gate: it exits 0 whatever the figures (1 only when a section could not be measured; the
// other sections are still measured and written).
//
//   npm run bench                         everything (8-10 minutes on 2 busy cores)
//   npm run bench -- --quick              fewer iterations
//   npm run bench -- --only wasm,sizes    some sections: wasm, opa, kyverno, sizes, scenarios
//   npm run bench -- --out /tmp/r.json    results elsewhere (default bench/results.json)

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { buildWasmBundle } from '../src/emit/bundle.ts';
import { PROJECT_ROOT } from '../src/emit/engines.ts';
import { loadBundleDir } from '../src/eval/bundle-dir.ts';
import { loadWasmPolicy, type WasmPolicy } from '../src/eval/wasm.ts';
import { engine } from '../test/harness/engines.ts';
import { jsonBytes, psaPods, SEED, typicalPod, violatingPod, widePod, WIDE_SIZES, type Pod } from './corpus.ts';
import { engineVersion, FULL, kyvernoApply, opaBench, QUICK, timeCalls, type Effort } from './measure.ts';
import { GATEKEEPER_SET, gatekeeperQuery, kyvernoPeers, sizesOf, type Sizes } from './peers.ts';
import { fmt, round, sortKeys, table, type Cell } from './report.ts';

const runProcess = promisify(execFile);
const SECTIONS = ['wasm', 'opa', 'kyverno', 'sizes', 'scenarios'] as const;
type Section = (typeof SECTIONS)[number];
const ALL_RULE_SETS = ['eci', 'pss_baseline', 'pss_restricted'] as const;
const GENERATED = join(PROJECT_ROOT, 'generated');

function option(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}
const quick = process.argv.includes('--quick');
const effort: Effort = quick ? QUICK : FULL;
const only = option('--only')?.split(',') ?? [...SECTIONS];
for (const s of only) if (!(SECTIONS as readonly string[]).includes(s)) throw new Error(`--only ${s}: the sections are ${SECTIONS.join(', ')}`);
const want = (s: Section) => only.includes(s);
const outFile = option('--out') ?? join(PROJECT_ROOT, 'bench', 'results.json');
const ruleSets = ALL_RULE_SETS.filter((rs) => existsSync(join(GENERATED, rs)));
const t0 = performance.now();
const log = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

// ── the corpus ────────────────────────────────────────────────────────────────────────────
const typical = typicalPod();
const violating = violatingPod();
const wide = new Map<number, Pod>(WIDE_SIZES.map((n) => [n, widePod(n)]));
const inputs: [string, Pod][] = [['typical', typical], ['violating', violating], ...WIDE_SIZES.map((n): [string, Pod] => [`wide-${n}`, wide.get(n)!])];
const wideKey = (n: number) => `wide-${n}`;

/** max/min of µs per container over the wide pods of 10 to 5,000 containers. */
function perContainerVariation(us: (label: string) => number | undefined): number | undefined {
  const per = WIDE_SIZES.filter((n) => n >= 10).map((n) => (us(wideKey(n)) ?? NaN) / n);
  return per.every(Number.isFinite) ? Math.max(...per) / Math.min(...per) : undefined;
}

/** The floor: one rule over the containers, compiled by `opa build -t wasm` now. */
const TRIVIAL_REGO = `package trivial

violations := [{"rule": "TRIVIAL", "path": sprintf("spec.containers[%d].securityContext.privileged", [i])} |
	some i, c in input.spec.containers
	c.securityContext.privileged == true
]

# buildWasmBundle compiles these entry points too; only violations is evaluated.
allow := count(violations) == 0
deny := [v.rule | some v in violations]
warn := []
`;

// ── sections ──────────────────────────────────────────────────────────────────────────────
interface Timed {
  us: number;
  calls?: number;
  deny?: number;
  warn?: number;
}
type ByInput = Record<string, Timed>;

/**
 * Inputs outside, engines inside: a figure and its anchors are measured seconds apart, so a
 * change in the machine's load during the run moves both.
 */
async function wasmSection() {
  const policies: [string, WasmPolicy][] = [];
  for (const rs of ruleSets) policies.push([rs, await loadBundleDir(join(GENERATED, rs, 'bundle'), rs)]);
  const built = buildWasmBundle(engine('opa'), { packageName: 'trivial', rego: TRIVIAL_REGO, params: {}, metadata: {} });
  if (!built.ok) throw new Error(`trivial policy: ${built.errors.map(String).join('\n')}`);
  policies.push(['trivial', await loadWasmPolicy(built.value.get('policy.wasm')!, 'trivial', {})]);
  // V8 first runs WebAssembly from its baseline compiler and optimises hot functions later: half
  // a second of the typical pod per policy first, so the first input timed is not the slowest.
  for (const [, policy] of policies) for (const t = performance.now(); performance.now() - t < 500; ) policy.violations(typical);
  const timed: Record<string, ByInput> = Object.fromEntries(policies.map(([name]) => [name, {}]));
  const json: ByInput = {};
  const keepFaster = (into: ByInput, label: string, t: Timed) => {
    const before = into[label];
    into[label] = before && before.us <= t.us ? { ...before, calls: (before.calls ?? 0) + (t.calls ?? 0) } : { ...t, calls: (before?.calls ?? 0) + (t.calls ?? 0) };
  };
  for (let round = 1; round <= effort.rounds; round++) {
    for (const [label, pod] of inputs) {
      for (const [name, policy] of policies) {
        const v = policy.violations(pod);
        const t = timeCalls(() => policy.violations(pod), effort);
        keepFaster(timed[name]!, label, { us: t.us, calls: t.calls, deny: v.filter((x) => x.action === 'deny').length, warn: v.filter((x) => x.action === 'warn').length });
        log(`opa-wasm ${name} ${label} (round ${round}): ${fmt(t.us)} µs`);
      }
      const t = timeCalls(() => JSON.parse(JSON.stringify(pod)), effort);
      keepFaster(json, label, { us: t.us, calls: t.calls });
    }
  }
  const { trivial, ...ours } = timed;
  return { ours, trivial: trivial!, json };
}

async function opaSection() {
  const work = mkdtempSync(join(tmpdir(), 'eci-bench-gk-'));
  try {
    const gk = gatekeeperQuery(work);
    const trivialFile = join(work, 'trivial.rego');
    writeFileSync(trivialFile, TRIVIAL_REGO);
    const ours: Record<string, ByInput> = Object.fromEntries(ruleSets.map((rs) => [rs, {}]));
    const gatekeeper: ByInput = {};
    const trivial: ByInput = {};
    const bench = async (what: string, into: ByInput, label: string, run: () => ReturnType<typeof opaBench>) => {
      into[label] = { us: (await run()).us };
      log(`opa bench ${what} ${label}: ${fmt(into[label]!.us)} µs`);
    };
    for (const [label, pod] of inputs.filter(([l]) => l !== 'violating')) {
      // pss_restricted is compared with the gatekeeper set on every width; the others on the ends.
      for (const rs of ruleSets.filter((r) => r === 'pss_restricted' || label === 'typical' || label === wideKey(5000))) {
        const files = [join(GENERATED, rs, 'rego', 'policy.rego'), join(GENERATED, rs, 'bundle', 'data.json')];
        await bench(rs, ours[rs]!, label, () => opaBench(files, `data.${rs}.violations`, pod, effort));
      }
      await bench('gatekeeper set', gatekeeper, label, () => opaBench(gk.files, gk.query, { review: { object: pod } }, effort, { v0: true }));
      if (label === 'typical') await bench('trivial policy', trivial, label, () => opaBench([trivialFile], 'data.trivial.violations', pod, effort));
    }
    // What the set says about the typical pods (a check that it runs as meant: none, then some).
    const gkViolations: Record<string, number> = {};
    for (const [label, pod] of [['typical', typical], ['violating', violating]] as const) {
      const input = join(work, 'input.json');
      writeFileSync(input, JSON.stringify({ review: { object: pod } }));
      const { stdout } = await runProcess(engine('opa'), ['eval', '--v0-compatible', '--format', 'json', '-i', input, ...gk.files.flatMap((f) => ['-d', f]), gk.query], { maxBuffer: 64 << 20 });
      const bindings = (JSON.parse(stdout) as { result: { bindings: Record<string, unknown[]> }[] }).result[0]!.bindings;
      gkViolations[label] = gk.vars.reduce((s, v) => s + (bindings[v]?.length ?? 0), 0);
    }
    return { ours, gatekeeper, gatekeeperViolations: gkViolations, trivial };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function kyvernoSection() {
  const pods = psaPods();
  // The ECI rule set's selector label on every pod, so the eci policy checks them too (no PSS
  // control reads labels; the peers ignore it).
  const objects = pods.map((p) => {
    const metadata = (p.object['metadata'] ?? {}) as { labels?: Record<string, string> };
    return { ...p.object, metadata: { ...metadata, labels: { ...metadata.labels, 'alibabacloud.com/eci': 'true' } } };
  });
  type Applied = Awaited<ReturnType<typeof kyvernoApply>>;
  const ours: Record<string, Applied> = {};
  const vpol: Record<string, Applied> = {};
  const peers: Record<string, Applied & { name: string; note: string }> = {};
  // Each rule set next to its peers, so they see the same load.
  const all = kyvernoPeers();
  const peersOf: Record<string, (keyof typeof all)[]> = { pss_restricted: ['cel', 'subrule'], pss_baseline: ['celBaseline', 'subruleBaseline'] };
  for (const rs of ['pss_restricted', 'pss_baseline', 'eci'].filter((r) => (ruleSets as readonly string[]).includes(r))) {
    ours[rs] = await kyvernoApply([join(GENERATED, rs, 'kyverno', 'clusterpolicy.yaml')], objects, effort);
    log(`kyverno apply ${rs}: ${fmt(ours[rs]!.s)} s`);
    vpol[rs] = await kyvernoApply(vpolFiles(rs), objects, effort);
    log(`kyverno apply ${rs} ValidatingPolicy: ${fmt(vpol[rs]!.s)} s`);
    for (const key of peersOf[rs] ?? []) {
      const peer = all[key];
      peers[key] = { name: peer.name, note: peer.note, ...(await kyvernoApply(peer.files, objects, effort)) };
      log(`kyverno apply ${peer.name}: ${fmt(peers[key]!.s)} s`);
    }
  }
  return { pods: pods.length, podIds: pods.map((p) => p.id), ours, vpol, peers };
}

/** The ValidatingPolicies of kyverno-vpol/ (not its kustomization). */
const vpolFiles = (rs: string) => filesIn(join(GENERATED, rs, 'kyverno-vpol'), '.yaml').filter((f) => !f.endsWith('kustomization.yaml'));

function filesIn(dir: string, ext: string): string[] {
  return existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith(ext) && statSync(join(dir, f)).isFile()).sort().map((f) => join(dir, f)) : [];
}

function sizesSection() {
  const ours: Record<string, Sizes & { regoBytes: number; wasmBytes: number; largestObjectJsonBytes: number }> = {};
  for (const rs of ruleSets) {
    // The Kubernetes objects of kyverno/ (not the kustomization, nor the kyverno test suite).
    const s = sizesOf(filesIn(join(GENERATED, rs, 'kyverno'), '.yaml'), (o) => !String(o['apiVersion']).startsWith('kustomize.config.k8s.io'));
    const bytes = (f: string) => (existsSync(f) ? statSync(f).size : 0);
    ours[rs] = { ...s, regoBytes: bytes(join(GENERATED, rs, 'rego', 'policy.rego')), wasmBytes: bytes(join(GENERATED, rs, 'bundle', 'policy.wasm')), largestObjectJsonBytes: Math.max(0, ...s.objects.map((o) => o.jsonBytes)) };
  }
  const vpol: Record<string, Sizes & { largestObjectJsonBytes: number }> = {};
  for (const rs of ruleSets) {
    const s = sizesOf(vpolFiles(rs));
    vpol[rs] = { ...s, largestObjectJsonBytes: Math.max(0, ...s.objects.map((o) => o.jsonBytes)) };
  }
  const peers: Record<string, Sizes & { name: string }> = {};
  for (const [key, peer] of Object.entries(kyvernoPeers())) peers[key] = { name: peer.name, ...sizesOf(peer.files) };
  const work = mkdtempSync(join(tmpdir(), 'eci-bench-gk-'));
  try {
    const gk = gatekeeperQuery(work);
    peers['gatekeeper'] = { name: `gatekeeper set (${GATEKEEPER_SET.length} templates + constraints)`, yamlBytes: gk.yamlBytes, jsonBytes: gk.jsonBytes, objects: [] };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return { ours, vpol, peers };
}

/** bench/scenarios.ts scenarios, one process each (peak memory is the scenario's own). */
const SCENARIOS = ['audit-20mb', 'build', 'wasm-pods', 'wasm-5000-containers'] as const;

async function scenariosSection() {
  const out: Record<string, { ms?: number; maxRssMiB?: number; detail?: string; error?: string; pods?: number; auditMs?: number; podsPerSecond?: number }> = {};
  for (const name of SCENARIOS) {
    try {
      const { stdout } = await runProcess(process.execPath, ['--import', 'tsx', join(PROJECT_ROOT, 'bench', 'scenarios.ts'), name], { cwd: PROJECT_ROOT, maxBuffer: 16 << 20 });
      const r = JSON.parse(stdout.trim().split('\n').at(-1)!) as { ms: number; maxRssMiB: number; detail: string };
      // audit-20mb's detail starts "YAML <MB> MB: read alone …; <ms> ms end to end, <n> pods, …": the
      // real CLI on the 20 MB YAML manifest, end to end.
      const m = /^YAML [\d.]+ MB: [^;]*; ([\d,]+) ms end to end, ([\d,]+) pods/.exec(r.detail);
      const pods = m ? Number(m[2]!.replace(/,/g, '')) : undefined;
      const auditMs = m ? Number(m[1]!.replace(/,/g, '')) : undefined;
      out[name] = { ...r, ...(pods && auditMs ? { pods, auditMs, podsPerSecond: pods / (auditMs / 1000) } : {}) };
      log(`scenario ${name}: ${r.ms} ms, ${r.maxRssMiB} MiB (${r.detail})`);
    } catch (e) {
      out[name] = { error: (e as Error).message.split('\n').slice(0, 3).join(' ') };
      log(`scenario ${name}: ${out[name]!.error}`);
    }
  }
  return out;
}

// ── run ───────────────────────────────────────────────────────────────────────────────────
const git = (args: string[]) => execFileSync('git', args, { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
const meta = {
  date: new Date().toISOString(),
  commit: git(['rev-parse', 'HEAD']),
  dirty: git(['status', '--porcelain', '--untracked-files=no']) !== '',
  node: process.version,
  // The machine, and how busy it was when the run began (and, in results.json, when it ended).
  machine: { cpus: cpus().length, model: cpus()[0]?.model ?? 'unknown', loadAverageAtStart: loadavg().map(round) },
  opa: await engineVersion('opa'),
  kyverno: want('kyverno') ? await engineVersion('kyverno') : undefined,
  quick,
  sections: only,
  effort,
  corpus: {
    seed: SEED,
    typicalPodBytes: jsonBytes(typical),
    violatingPodBytes: jsonBytes(violating),
    widePodBytes: Object.fromEntries(WIDE_SIZES.map((n) => [String(n), jsonBytes(wide.get(n))])),
  },
};
log(`${quick ? 'quick' : 'full'} run of ${only.join(', ')} on ${ruleSets.join(', ')}`);

/** A section that cannot be measured (an engine missing, a peer file moved) is reported, not fatal. */
const errors: Record<string, string> = {};
async function section<T>(name: Section, measure: () => T | Promise<T>): Promise<T | undefined> {
  if (!want(name)) return undefined;
  try {
    return await measure();
  } catch (e) {
    errors[name] = (e as Error).message.split('\n').slice(0, 5).join(' ');
    log(`${name}: not measured: ${errors[name]}`);
    return undefined;
  }
}
const wasm = await section('wasm', wasmSection);
const opa = await section('opa', opaSection);
const kyverno = await section('kyverno', kyvernoSection);
const sizes = await section('sizes', sizesSection);
const scenarios = await section('scenarios', scenariosSection);

// ── ratios and targets ────────────────────────────────────────────────────────────────────
const div = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !b ? undefined : a / b);
const ratios: Record<string, number | undefined> = {};
for (const rs of ruleSets) {
  ratios[`opa-wasm ${rs} typical / trivial policy`] = div(wasm?.ours[rs]?.['typical']?.us, wasm?.trivial['typical']?.us);
  ratios[`opa-wasm ${rs} typical / JSON.parse+stringify`] = div(wasm?.ours[rs]?.['typical']?.us, wasm?.json['typical']?.us);
  ratios[`opa-wasm ${rs} µs per container, max/min 10→5,000`] = wasm ? perContainerVariation((l) => wasm.ours[rs]?.[l]?.us) : undefined;
}
ratios['opa-wasm trivial policy µs per container, max/min 10→5,000'] = wasm ? perContainerVariation((l) => wasm.trivial[l]?.us) : undefined;
ratios['opa bench pss_restricted / gatekeeper set, typical'] = div(opa?.ours['pss_restricted']?.['typical']?.us, opa?.gatekeeper['typical']?.us);
ratios['opa bench pss_restricted / gatekeeper set, 5,000 containers'] = div(opa?.ours['pss_restricted']?.[wideKey(5000)]?.us, opa?.gatekeeper[wideKey(5000)]?.us);
ratios['opa bench pss_restricted µs per container, max/min 10→5,000'] = opa ? perContainerVariation((l) => opa.ours['pss_restricted']?.[l]?.us) : undefined;
ratios['opa bench gatekeeper set µs per container, max/min 10→5,000'] = opa ? perContainerVariation((l) => opa.gatekeeper[l]?.us) : undefined;
ratios['opa bench pss_restricted typical / trivial policy'] = div(opa?.ours['pss_restricted']?.['typical']?.us, opa?.trivial['typical']?.us);
ratios['kyverno apply pss_restricted / pod-security-cel'] = div(kyverno?.ours['pss_restricted']?.s, kyverno?.peers['cel']?.s);
ratios['kyverno apply pss_restricted ValidatingPolicy / pod-security-cel'] = div(kyverno?.vpol['pss_restricted']?.s, kyverno?.peers['cel']?.s);
ratios['kyverno apply pss_baseline ValidatingPolicy / pod-security-cel (baseline)'] = div(kyverno?.vpol['pss_baseline']?.s, kyverno?.peers['celBaseline']?.s);
ratios['YAML bytes pss_restricted ValidatingPolicy / pod-security-cel'] = div(sizes?.vpol['pss_restricted']?.yamlBytes, sizes?.peers['cel']?.yamlBytes);
ratios['YAML bytes pss_baseline ValidatingPolicy / pod-security-cel (baseline)'] = div(sizes?.vpol['pss_baseline']?.yamlBytes, sizes?.peers['celBaseline']?.yamlBytes);
ratios['kyverno apply pss_restricted / podsecurity-subrule-restricted'] = div(kyverno?.ours['pss_restricted']?.s, kyverno?.peers['subrule']?.s);
ratios['kyverno apply pss_baseline / pod-security-cel (baseline)'] = div(kyverno?.ours['pss_baseline']?.s, kyverno?.peers['celBaseline']?.s);
ratios['kyverno apply pss_baseline / podsecurity-subrule-baseline'] = div(kyverno?.ours['pss_baseline']?.s, kyverno?.peers['subruleBaseline']?.s);
ratios['YAML bytes pss_restricted / pod-security-cel'] = div(sizes?.ours['pss_restricted']?.yamlBytes, sizes?.peers['cel']?.yamlBytes);
ratios['JSON bytes pss_restricted / pod-security-cel'] = div(sizes?.ours['pss_restricted']?.jsonBytes, sizes?.peers['cel']?.jsonBytes);
ratios['YAML bytes pss_baseline / pod-security-cel (baseline)'] = div(sizes?.ours['pss_baseline']?.yamlBytes, sizes?.peers['celBaseline']?.yamlBytes);
for (const k of Object.keys(ratios)) if (ratios[k] === undefined) delete ratios[k];

interface Target {
  target: string;
  figure: string;
  value?: number;
  limit: number;
  unit: string;
  met?: boolean;
}
const targets: Target[] = [];
const target = (t: string, figure: string, value: number | undefined, limit: number, unit: string) =>
  targets.push({ target: t, figure, value, limit, unit, met: value === undefined ? undefined : value <= limit });
for (const rs of ruleSets) {
  if (wasm) {
    target('opa-wasm typical pod ≤ 6× the trivial floor', `opa-wasm ${rs} typical / trivial policy`, ratios[`opa-wasm ${rs} typical / trivial policy`], 6, '×');
    target('opa-wasm typical pod ≤ 100 µs', `opa-wasm ${rs} typical`, wasm.ours[rs]?.['typical']?.us, 100, 'µs');
    target('5,000-container pod ≤ 0.3 s (opa-wasm)', `opa-wasm ${rs} 5,000 containers`, div(wasm.ours[rs]?.[wideKey(5000)]?.us, 1e6), 0.3, 's');
    target('per-container cost variation ≤ 2×', `opa-wasm ${rs} µs/container max/min, 10→5,000`, ratios[`opa-wasm ${rs} µs per container, max/min 10→5,000`], 2, '×');
  }
  if (opa) target('5,000-container pod ≤ 0.3 s (opa)', `opa bench ${rs} 5,000 containers`, div(opa.ours[rs]?.[wideKey(5000)]?.us, 1e6), 0.3, 's');
  if (sizes) target('ClusterPolicy JSON ≤ 64 KiB', `${rs} largest Kyverno object, JSON`, div(sizes.ours[rs]?.largestObjectJsonBytes, 1024), 64, 'KiB');
}
if (opa) {
  target('opa bench pss_restricted vs gatekeeper set ≤ 0.1×', 'opa bench pss_restricted / gatekeeper set, typical', ratios['opa bench pss_restricted / gatekeeper set, typical'], 0.1, '×');
  target('per-container cost variation ≤ 2×', 'opa bench pss_restricted µs/container max/min, 10→5,000', ratios['opa bench pss_restricted µs per container, max/min 10→5,000'], 2, '×');
}
if (sizes) {
  target('pss_restricted YAML vs pod-security-cel ≤ 1.5×', 'YAML bytes pss_restricted ClusterPolicy / pod-security-cel', ratios['YAML bytes pss_restricted / pod-security-cel'], 1.5, '×');
  target('pss_restricted YAML vs pod-security-cel ≤ 1.5×', 'YAML bytes pss_restricted ValidatingPolicy / pod-security-cel', ratios['YAML bytes pss_restricted ValidatingPolicy / pod-security-cel'], 1.5, '×');
}
if (kyverno) {
  target('kyverno apply pss_restricted vs pod-security-cel ≤ 1.0×', 'kyverno apply pss_restricted ClusterPolicy / pod-security-cel (40 pods)', ratios['kyverno apply pss_restricted / pod-security-cel'], 1, '×');
  target('kyverno apply pss_restricted vs pod-security-cel ≤ 1.0×', 'kyverno apply pss_restricted ValidatingPolicy / pod-security-cel (40 pods)', ratios['kyverno apply pss_restricted ValidatingPolicy / pod-security-cel'], 1, '×');
}
if (scenarios) {
  const a = scenarios['audit-20mb'];
  target('audit 20 MB ≤ 4 s', 'eci-policy audit --rule-set eci, 20 MB manifest', div(a?.auditMs ?? a?.ms, 1000), 4, 's');
}

// ── output ────────────────────────────────────────────────────────────────────────────────
const wallSeconds = (performance.now() - t0) / 1000;
const out: string[] = [];
out.push(
  `eci-policy bench ${meta.date} commit ${meta.commit.slice(0, 12)}${meta.dirty ? ' (dirty)' : ''}, node ${meta.node}, opa ${meta.opa}${meta.kyverno ? `, kyverno ${meta.kyverno}` : ''}, ${quick ? 'quick' : 'full'} run, ${fmt(wallSeconds)} s wall`,
  `machine: ${meta.machine.cpus} × ${meta.machine.model}, load average ${meta.machine.loadAverageAtStart.map((x) => fmt(x)).join(' ')} at start, ${loadavg().map((x) => fmt(x)).join(' ')} at end`,
  `corpus (seed ${SEED}): typical pod ${meta.corpus.typicalPodBytes} B of JSON (2 containers + 1 init container, compliant), violating variant ${meta.corpus.violatingPodBytes} B, wide pods of ${WIDE_SIZES.join(', ')} containers (5,000: ${fmt(meta.corpus.widePodBytes['5000']! / 1e6)} MB)`,
);
if (wasm) {
  out.push(
    '',
    table(
      `opa-wasm: µs per evaluation (input serialisation included; median of batches after warm-up, lowest of ${effort.rounds} round${effort.rounds > 1 ? 's' : ''}) — violations deny/warn`,
      ['input', ...ruleSets, 'trivial policy', 'JSON.parse+stringify'],
      inputs.map(([label]) => [
        label,
        ...ruleSets.map((rs) => {
          const t = wasm.ours[rs]?.[label];
          return t ? `${fmt(t.us)} (${t.deny}/${t.warn})` : undefined;
        }),
        wasm.trivial[label]?.us,
        wasm.json[label]?.us,
      ]),
    ),
  );
}
if (opa) {
  const labels = ['typical', ...WIDE_SIZES.map(wideKey)];
  out.push(
    '',
    table(
      `opa bench: µs per op (T/N of Go's benchmark loop, median of ${effort.repeats} runs), query data.<rule set>.violations; gatekeeper set: ${GATEKEEPER_SET.length} templates in one query`,
      ['input', ...ruleSets, 'gatekeeper set', 'trivial policy'],
      labels.map((label) => [label, ...ruleSets.map((rs) => opa.ours[rs]?.[label]?.us), opa.gatekeeper[label]?.us, label === 'typical' ? opa.trivial['typical']?.us : undefined]),
    ),
    `gatekeeper set violations: typical ${opa.gatekeeperViolations['typical']}, violating ${opa.gatekeeperViolations['violating']}`,
  );
}
if (kyverno) {
  const fmtResults = (r: Readonly<Record<string, number>>) => Object.entries(r).sort().map(([k, v]) => `${k} ${v}`).join(', ');
  out.push(
    '',
    table(
      `kyverno apply: wall seconds of one process over ${kyverno.pods} PSA v1.37 pods, labelled alibabacloud.com/eci: "true" (median of up to ${effort.repeats} runs, fewer past a minute)`,
      ['policy', 's', 'report results'],
      [
        ...ruleSets.flatMap((rs): Cell[][] => [
          [`${rs} (generated ClusterPolicy)`, kyverno.ours[rs]!.s, fmtResults(kyverno.ours[rs]!.results)],
          [`${rs} (generated ValidatingPolicies)`, kyverno.vpol[rs]!.s, fmtResults(kyverno.vpol[rs]!.results)],
        ]),
        ...Object.values(kyverno.peers).map((p): Cell[] => [`${p.name} (${p.note})`, p.s, fmtResults(p.results)])],
    ),
  );
}
if (sizes) {
  out.push(
    '',
    table(
      'artefact sizes: bytes (YAML as written; JSON = JSON.stringify of each parsed object)',
      ['artefact', 'objects', 'YAML', 'JSON', 'largest object JSON', 'Rego', 'WASM'],
      [
        ...ruleSets.map((rs): Cell[] => {
          const s = sizes.ours[rs]!;
          return [`${rs} kyverno/`, s.objects.length, s.yamlBytes, s.jsonBytes, s.largestObjectJsonBytes, s.regoBytes, s.wasmBytes];
        }),
        ...ruleSets.map((rs): Cell[] => {
          const s = sizes.vpol[rs]!;
          return [`${rs} kyverno-vpol/`, s.objects.length, s.yamlBytes, s.jsonBytes, s.largestObjectJsonBytes];
        }),
        ...Object.values(sizes.peers).map((p): Cell[] => [p.name, p.objects.length || undefined, p.yamlBytes, p.jsonBytes, p.objects.length ? Math.max(...p.objects.map((o) => o.jsonBytes)) : undefined]),
      ],
    ),
  );
}
if (scenarios) {
  out.push(
    '',
    table(
      'bench/scenarios.ts: one process each',
      ['scenario', 'ms', 'max RSS MiB', 'detail'],
      Object.entries(scenarios).map(([name, r]): Cell[] => [name, r.ms, r.maxRssMiB, r.error ? `error: ${r.error}` : `${r.detail}${r.podsPerSecond ? ` = ${fmt(r.podsPerSecond)} pods/s` : ''}`]),
    ),
  );
}
out.push('', table('ratios (measured in this run)', ['ratio', 'value'], Object.entries(ratios).map(([k, v]) => [k, `${fmt(v)}×`])));
out.push(
  '',
  table(
    'targets (issue 12)',
    ['target', 'figure', 'value', 'result'],
    targets.map((t) => [t.target, t.figure, `${fmt(t.value)} ${t.unit}`, t.met === undefined ? 'not measured' : t.met ? 'met' : 'missed']),
  ),
);
if (opa || sizes)
  out.push(
    '',
    table(
      'gatekeeper set: PSS Restricted controls → gatekeeper-library template (sample constraint), our pss_restricted rules',
      ['PSS control', 'template (constraint)', 'our rules'],
      GATEKEEPER_SET.map((c) => [c.control, `${c.dir} (${c.constraint})`, c.rules.join(', ')]),
    ),
  );
for (const [name, message] of Object.entries(errors)) out.push('', `section ${name} NOT MEASURED: ${message}`);
process.stdout.write(`${out.join('\n')}\n`);

const roundAll = (v: unknown): unknown =>
  typeof v === 'number' ? round(v) : Array.isArray(v) ? v.map(roundAll) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, roundAll(x)])) : v;
const results = {
  meta: { ...meta, wallSeconds, loadAverageAtEnd: loadavg(), errors },
  figures: { opaWasm: wasm?.ours, opaBench: opa?.ours, kyvernoApply: kyverno?.ours, kyvernoApplyVpol: kyverno?.vpol, sizes: sizes?.ours, sizesVpol: sizes?.vpol, scenarios },
  anchors: {
    opaWasmTrivialPolicy: wasm?.trivial,
    jsonParseStringify: wasm?.json,
    opaBenchTrivialPolicy: opa?.trivial,
    gatekeeper: opa || sizes ? { set: GATEKEEPER_SET, opaBench: opa?.gatekeeper, violations: opa?.gatekeeperViolations, sizes: sizes?.peers['gatekeeper'] } : undefined,
    kyverno: kyverno || sizes ? { apply: kyverno?.peers, sizes: sizes ? Object.fromEntries(Object.entries(sizes.peers).filter(([k]) => k !== 'gatekeeper')) : undefined, pods: kyverno?.podIds } : undefined,
  },
  ratios,
  targets,
};
writeFileSync(outFile, `${JSON.stringify(sortKeys(roundAll(results)), null, 2)}\n`);
log(`wrote ${outFile} (${fmt(wallSeconds)} s)`);
// A measurement, not a gate: the figures never fail the run; a section that could not be measured does.
process.exitCode = Object.keys(errors).length ? 1 : 0;
