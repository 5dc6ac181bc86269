// The peers the benchmark measures against, read from the peer fixtures (see their README):
// gatekeeper-library's templates for the PSS Restricted controls, each with a sample
// constraint's parameters, as one Rego query; kyverno/policies' pod-security-cel set and its
// validate.podSecurity subrule policies.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parseDocument } from 'yaml';
import { peerFixturesRoot } from '../test/conformance/sources.ts';

export interface GatekeeperControl {
  /** The PSS control (the PSS page's name). */
  readonly control: string;
  /** Our pss_restricted rules for it. */
  readonly rules: readonly string[];
  /** gatekeeper/templates/<dir>/ and the sample constraint under constraints/<dir>/. */
  readonly dir: string;
  readonly constraint: string;
}

/**
 * PSS Restricted controls → gatekeeper-library templates (the same mapping as
 * test/conformance/mapping.yaml). Left out: `seccomp` (the annotation-era template, superseded
 * by seccompv2), and the templates for no PSS control (fsgroup, flexvolume-drivers,
 * read-only-root-filesystem). AppArmor's template checks the annotations only.
 */
export const GATEKEEPER_SET: readonly GatekeeperControl[] = [
  { control: 'HostProcess', rules: ['PSS-HOST-PROCESS'], dir: 'host-process', constraint: 'psp-host-process' },
  { control: 'Host Namespaces (PID, IPC)', rules: ['PSS-HOST-NAMESPACES'], dir: 'host-namespaces', constraint: 'psp-host-namespace' },
  { control: 'Host Namespaces (network), Host Ports', rules: ['PSS-HOST-NAMESPACES', 'PSS-HOST-PORTS'], dir: 'host-network-ports', constraint: 'block_host_network' },
  { control: 'Privileged Containers', rules: ['PSS-PRIVILEGED'], dir: 'privileged-containers', constraint: 'psp-privileged-container' },
  { control: 'Capabilities (baseline + restricted)', rules: ['PSS-CAPABILITIES-BASELINE', 'PSS-CAPABILITIES-RESTRICTED'], dir: 'capabilities', constraint: 'psp-capabilities-restricted' },
  { control: 'HostPath Volumes', rules: ['PSS-HOST-PATH-VOLUMES'], dir: 'host-filesystem', constraint: 'no-host-paths' },
  { control: 'Host Probes / Lifecycle Hooks', rules: ['PSS-HOST-PROBES'], dir: 'host-probes-lifecycle', constraint: 'psp-host-probes-lifecycle' },
  { control: 'AppArmor', rules: ['PSS-APPARMOR'], dir: 'apparmor', constraint: 'psp-apparmor' },
  { control: 'SELinux', rules: ['PSS-SELINUX'], dir: 'selinux', constraint: 'psp-selinux-v2' },
  { control: '/proc Mount Type', rules: ['PSS-PROC-MOUNT', 'PSS-PROC-MOUNT-RESTRICTED'], dir: 'proc-mount', constraint: 'psp-proc-mount' },
  { control: 'Seccomp (baseline + restricted)', rules: ['PSS-SECCOMP-BASELINE', 'PSS-SECCOMP-RESTRICTED'], dir: 'seccompv2', constraint: 'psp-seccomp-restricted' },
  { control: 'Sysctls', rules: ['PSS-SYSCTLS'], dir: 'forbidden-sysctls', constraint: 'psp-forbidden-sysctls' },
  { control: 'Volume Types', rules: ['PSS-VOLUME-TYPES'], dir: 'volumes', constraint: 'psp-volume-types' },
  { control: 'Privilege Escalation', rules: ['PSS-PRIVILEGE-ESCALATION'], dir: 'allow-privilege-escalation', constraint: 'psp-allow-privilege-escalation-container' },
  { control: 'Running as Non-root, Non-root user', rules: ['PSS-RUN-AS-NON-ROOT', 'PSS-RUN-AS-USER'], dir: 'users', constraint: 'psp-pods-allowed-user-ranges' },
];

function yamlOf(file: string): Record<string, unknown> {
  const doc = parseDocument(readFileSync(file, 'utf8'));
  if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0]!.message}`);
  return doc.toJS() as Record<string, unknown>;
}

interface RegoSource {
  readonly rego: string;
  readonly libs?: readonly string[];
}

/** The Rego engine's source of a template: `code[engine=Rego].source`, or the older `rego`/`libs`. */
function regoOf(template: Record<string, unknown>, file: string): RegoSource {
  const target = ((template['spec'] as { targets?: Record<string, unknown>[] }).targets ?? [])[0];
  const code = target?.['code'] as { engine: string; source: RegoSource }[] | undefined;
  const source = code ? code.find((c) => c.engine === 'Rego')?.source : (target as unknown as RegoSource | undefined);
  if (!source?.rego) throw new Error(`${file}: no Rego source`);
  return source;
}

export interface GatekeeperQuery {
  /** Rego files written (each template's package and its libraries, renamed per template). */
  readonly files: readonly string[];
  /** One query: every template's `violation` set with its constraint's parameters. */
  readonly query: string;
  /** The variable of each template in the query, in GATEKEEPER_SET order. */
  readonly vars: readonly string[];
  /** Template and constraint YAML bytes, and the same objects as JSON. */
  readonly yamlBytes: number;
  readonly jsonBytes: number;
}

/**
 * Writes the set's Rego into `dir`. Gatekeeper gives each template its own `data.lib`; here
 * every template's package becomes `gk.<dir>` and its libraries `gk.<dir>.lib.*` (the imports
 * rewritten to match), so the templates' differing copies of lib.exempt_container coexist.
 * The Rego is v0 (run with --v0-compatible); the input is `{"review": {"object": pod}}`.
 */
export function gatekeeperQuery(dir: string, root = peerFixturesRoot()): GatekeeperQuery {
  mkdirSync(dir, { recursive: true });
  const files: string[] = [];
  const parts: string[] = [];
  const vars: string[] = [];
  let yamlBytes = 0;
  let jsonBytes = 0;
  for (const c of GATEKEEPER_SET) {
    const templateFile = join(root, 'gatekeeper', 'templates', c.dir, 'template.yaml');
    const constraintDir = join(root, 'gatekeeper', 'constraints', c.dir, c.constraint);
    const constraintFile = join(constraintDir, 'constraint.yaml');
    const template = yamlOf(templateFile);
    const constraint = yamlOf(constraintFile);
    for (const [f, v] of [[templateFile, template], [constraintFile, constraint]] as const) {
      yamlBytes += Buffer.byteLength(readFileSync(f, 'utf8'));
      jsonBytes += Buffer.byteLength(JSON.stringify(v));
    }
    const ident = c.dir.replace(/[^a-z0-9]/g, '_');
    const pkg = `gk.${ident}`;
    const source = regoOf(template, templateFile);
    const rewrite = (text: string, as: (old: string) => string) =>
      text.replace(/^package\s+(\S+)/m, (_, old: string) => `package ${as(old)}`).replace(/\bdata\.lib\./g, `data.${pkg}.lib.`);
    const modules = [rewrite(source.rego, () => pkg), ...(source.libs ?? []).map((lib) => rewrite(lib, (old) => `${pkg}.${old}`))];
    modules.forEach((m, i) => {
      const file = join(dir, `${ident}.${i}.rego`);
      writeFileSync(file, m);
      files.push(file);
    });
    const params = (constraint['spec'] as { parameters?: unknown }).parameters ?? {};
    vars.push(ident);
    parts.push(`${ident} := data.${pkg}.violation with input.parameters as ${JSON.stringify(params)}`);
  }
  return { files, query: parts.join('; '), vars, yamlBytes, jsonBytes };
}

export interface KyvernoPeer {
  readonly name: string;
  readonly files: readonly string[];
  readonly note: string;
}

/**
 * kyverno/policies' CEL ClusterPolicies for PSS: `pod-security-cel/` restricted and baseline,
 * without `disallow-host-ports-range` (an alternative to disallow-host-ports allowing
 * 5000-6000, no PSS control). `restrict-apparmor-profiles` has no -cel copy.
 */
export function kyvernoPeers(root = peerFixturesRoot()): { cel: KyvernoPeer; celBaseline: KyvernoPeer; subrule: KyvernoPeer; subruleBaseline: KyvernoPeer } {
  const base = join(root, 'kyverno', 'policies');
  const celDir = (level: string, names: string[]) => names.map((n) => join(base, 'pod-security-cel', level, n, `${n}.yaml`));
  const baseline = celDir('baseline', ['disallow-capabilities', 'disallow-host-namespaces', 'disallow-host-path', 'disallow-host-ports', 'disallow-host-process', 'disallow-privileged-containers', 'disallow-proc-mount', 'disallow-selinux', 'restrict-seccomp', 'restrict-sysctls']);
  const restricted = celDir('restricted', ['disallow-capabilities-strict', 'disallow-privilege-escalation', 'require-run-as-non-root-user', 'require-run-as-nonroot', 'restrict-seccomp-strict', 'restrict-volume-types']);
  return {
    cel: { name: 'pod-security-cel (baseline + restricted)', files: [...baseline, ...restricted], note: `${baseline.length + restricted.length} ClusterPolicies, validate.cel` },
    celBaseline: { name: 'pod-security-cel (baseline)', files: baseline, note: `${baseline.length} ClusterPolicies, validate.cel` },
    subrule: { name: 'podsecurity-subrule-restricted', files: [join(base, 'pod-security', 'subrule', 'restricted', 'restricted-latest', 'restricted-latest.yaml')], note: 'validate.podSecurity level restricted, version latest' },
    subruleBaseline: { name: 'podsecurity-subrule-baseline', files: [join(base, 'pod-security', 'subrule', 'podsecurity-subrule-baseline', 'podsecurity-subrule-baseline.yaml')], note: 'validate.podSecurity level baseline, version latest' },
  };
}

export interface Sizes {
  readonly yamlBytes: number;
  readonly jsonBytes: number;
  /** Each Kubernetes object: kind/name and its JSON bytes. */
  readonly objects: readonly { readonly object: string; readonly jsonBytes: number }[];
}

/** YAML bytes of the files and JSON.stringify bytes of each object in them. */
export function sizesOf(files: readonly string[], keep: (o: Record<string, unknown>) => boolean = () => true): Sizes {
  let yamlBytes = 0;
  const objects: { object: string; jsonBytes: number }[] = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const docs = parseAllDocuments(text);
    const kept = (Array.isArray(docs) ? docs : []).map((d) => d.toJS() as Record<string, unknown> | null).filter((o): o is Record<string, unknown> => !!o && keep(o));
    if (!kept.length) continue;
    yamlBytes += Buffer.byteLength(text);
    for (const o of kept) objects.push({ object: `${String(o['kind'])}/${String((o['metadata'] as { name?: string } | undefined)?.name)}`, jsonBytes: Buffer.byteLength(JSON.stringify(o)) });
  }
  return { yamlBytes, jsonBytes: objects.reduce((s, o) => s + o.jsonBytes, 0), objects };
}
