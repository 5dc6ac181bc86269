// Where the pinned engines are: .tools/bin (installed by scripts/install-engines.sh), else PATH.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Where the install script puts the pinned engines; ECI_POLICY_TOOLS_BIN overrides it. */
export const TOOLS_BIN = process.env['ECI_POLICY_TOOLS_BIN'] || join(PROJECT_ROOT, '.tools', 'bin');

/**
 * The engines; cel-cost, Kubernetes' CEL library as a cost meter (tools/cel-cost); the control
 * plane the cluster tests start (tools/cluster); and the admission controllers they run on it.
 */
export type Engine =
  | 'opa'
  | 'kyverno'
  | 'gator'
  | 'conftest'
  | 'cel-cost'
  | 'etcd'
  | 'kube-apiserver'
  | 'kubectl'
  | 'kyverno-admission-controller'
  | 'gatekeeper-manager';

/** The install script's argument for each engine that another one installs. */
const INSTALLED_BY: Partial<Record<Engine, string>> = {
  etcd: 'cluster',
  'kube-apiserver': 'cluster',
  kubectl: 'cluster',
  'kyverno-admission-controller': 'controllers',
  'gatekeeper-manager': 'controllers',
};

export function findEngine(engine: Engine): string | undefined {
  const local = join(TOOLS_BIN, engine);
  if (existsSync(local)) return local;
  try {
    return execFileSync('sh', ['-c', `command -v ${engine}`], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

export function installHint(engine: Engine): string {
  return `install it with: bash scripts/install-engines.sh ${INSTALLED_BY[engine] ?? engine}   (builds the pinned version from the Go module proxy into .tools/bin)`;
}
