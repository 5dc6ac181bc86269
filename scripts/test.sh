#!/usr/bin/env bash
# npm test: installs the pinned engines and the publishing tools when missing, type-checks,
# runs every uvu suite under test/ and ends with one line "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/install-engines.sh || { echo "0 passed, 1 failed"; exit 1; }
# The publishing and playground tests' tools (docker-registry, skopeo, kubectl, openssl, chromium). Without them the rest
# still runs, and each test needing one fails naming the command that installs it.
bash scripts/install-tools.sh || echo "[tools] could not install every tool: the tests needing one will fail and say so" >&2

if ! npx tsc --noEmit; then
  echo "typecheck failed"
  echo "0 passed, 1 failed"
  exit 1
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
pattern=${1:-'\.test\.ts$'}
node --import tsx node_modules/uvu/bin.js test "$pattern" -c false 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

total=$(awk '/^  Total:/ {s+=$2} END {print s+0}' "$log")
passed=$(awk '/^  Passed:/ {s+=$2} END {print s+0}' "$log")
skipped=$(awk '/^  Skipped:/ {s+=$2} END {print s+0}' "$log")
failed=$((total - passed - skipped))
if [ "$total" -eq 0 ]; then
  echo "no tests ran"
  failed=1
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi
echo "${passed} passed, ${failed} failed"
[ "$failed" -eq 0 ] && [ "$status" -eq 0 ]
