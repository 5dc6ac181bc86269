// Where the pinned engines' Go modules are (their CRDs and deployment manifests are read from
// there, so the cluster runs exactly what the binaries were built from).

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/emit/engines.ts';

const env = readFileSync(join(PROJECT_ROOT, 'tools', 'engines', 'versions.env'), 'utf8');

/** A version from tools/engines/versions.env. */
export function pinned(name: 'KYVERNO_VERSION' | 'GATOR_VERSION'): string {
  const v = new RegExp(`^${name}=(\\S+)$`, 'm').exec(env)?.[1];
  if (!v) throw new Error(`tools/engines/versions.env has no ${name}`);
  return v;
}

const modules = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();

/** The pinned Kyverno module's folder in the Go module cache. */
export const KYVERNO_MODULE = join(modules, `github.com/kyverno/kyverno@${pinned('KYVERNO_VERSION')}`);
/** The pinned Gatekeeper module's folder (gator and the manager are built from it). */
export const GATEKEEPER_MODULE = join(modules, `github.com/open-policy-agent/gatekeeper/v3@${pinned('GATOR_VERSION')}`);
