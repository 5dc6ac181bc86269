#!/usr/bin/env bash
# npm run test:cluster [-- --all]: the cluster tests alone (test/cluster/: a real kube-apiserver,
# the Kyverno admission controller and Gatekeeper's manager). `npm test` sends every fixture
# through the VAP leg and a budget through each webhook leg (at least one fixture per rule and
# verdict); --all sends every fixture through every leg.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
for a in "$@"; do
  case "$a" in
    --all) export ECI_CLUSTER_ALL=1 ;;
    *) echo "usage: npm run test:cluster [-- --all]" >&2; exit 2 ;;
  esac
done
exec bash "$root/scripts/test.sh" 'cluster/.*\.test\.ts$'
