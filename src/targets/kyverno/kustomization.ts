// generated/<rule-set>/<target>/kustomization.yaml (kyverno, kyverno-vpol, vap): the policies as a kustomize base, so a cluster's
// overlay can take it by reference (`resources: [<repo>/generated/eci/kyverno]`) and patch it.
// It lists the ClusterPolicy only: tests/ is the `kyverno test` suite, not something to apply.

import type { RuleSet } from '../../ir/types.ts';

export interface KustomizationInput {
  readonly name: string;
  /** The target's folder under generated/<rule-set>/. */
  readonly folder: string;
  readonly resources: readonly string[];
}

export const kustomization = (rs: RuleSet, folder: string, resources: readonly string[]): KustomizationInput => ({ name: rs.name, folder, resources });
