#!/usr/bin/env bash
# Installs the pinned policy engines into .tools/bin from the Go module proxy.
# Idempotent: an engine whose binary already reports the pinned version is skipped.
# Usage: scripts/install-engines.sh [opa|kyverno|gator|conftest|cel-cost|cluster|controllers ...]   (default: all)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# shellcheck source=../tools/engines/versions.env
. "$root/tools/engines/versions.env"
# ECI_POLICY_TOOLS_BIN moves them, as it does for src/emit/engines.ts.
bin="${ECI_POLICY_TOOLS_BIN:-$root/.tools/bin}"
mkdir -p "$bin"
export GOBIN="$bin" GOFLAGS="${GOFLAGS:-} -buildvcs=false" CGO_ENABLED=0

log() { printf '[engines] %s\n' "$*" >&2; }

# The whole output of `<engine> version` (or the flag given) first: `grep -q` stopping early
# would SIGPIPE the engine, which pipefail would report as a mismatch and trigger a rebuild.
installed_version() {
  local out
  out=$("$1" "${2:-version}" 2>/dev/null) || true
  printf '%s\n' "$out"
}

# A line every 30 s while a first build runs (minutes), so CI logs show it is alive.
with_heartbeat() {
  local what=$1; shift
  (
    trap 'kill "$nap" 2>/dev/null; exit 0' TERM
    while :; do
      sleep 30 & nap=$!
      wait "$nap"
      log "still building ${what} ($((SECONDS - start))s)"
    done
  ) &
  local beat=$!
  local rc=0
  "$@" || rc=$?
  kill "$beat" 2>/dev/null; wait "$beat" 2>/dev/null || true
  return "$rc"
}

need_go() {
  command -v go >/dev/null 2>&1 || { log "go is not on PATH: install Go >= 1.26 (https://go.dev/doc/install)"; exit 2; }
}

# opa is built with its WebAssembly engine (build tag opa_wasm; wazero, pure Go, so no cgo):
# without it `opa run` refuses to activate a bundle whose manifest lists Wasm entrypoints, which
# is what `opa build -t wasm` makes and `eci-policy publish` serves. A binary without it is rebuilt.
install_opa() {
  if [ -x "$bin/opa" ] && installed_version "$bin/opa" | grep -qx "Version: ${OPA_VERSION#v}" \
    && installed_version "$bin/opa" | grep -qx "WebAssembly: available"; then
    log "opa ${OPA_VERSION} already installed"; return 0
  fi
  need_go
  log "building opa ${OPA_VERSION} with WebAssembly from the Go module proxy (first time: a few minutes)"
  local start=$SECONDS
  with_heartbeat opa go install -tags opa_wasm -ldflags "-X github.com/open-policy-agent/opa/v1/version.Version=${OPA_VERSION#v}" \
    "github.com/open-policy-agent/opa@${OPA_VERSION}"
  log "opa ${OPA_VERSION} installed in $((SECONDS - start))s"
}

install_kyverno() {
  if [ -x "$bin/kyverno" ] && installed_version "$bin/kyverno" | grep -qx "Version: ${KYVERNO_VERSION#v}"; then
    log "kyverno ${KYVERNO_VERSION} already installed"; return 0
  fi
  need_go
  # The tools module pins the version (go.mod `tool` line) and carries Kyverno's replace directive.
  if ! grep -q "github.com/kyverno/kyverno ${KYVERNO_VERSION}" "$root/tools/engines/go.mod"; then
    log "tools/engines/go.mod does not pin kyverno ${KYVERNO_VERSION}: update it with"
    log "  (cd tools/engines && go get -tool github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno@${KYVERNO_VERSION})"
    exit 2
  fi
  log "building kyverno CLI ${KYVERNO_VERSION} from the Go module proxy (first time: several minutes)"
  local start=$SECONDS
  with_heartbeat kyverno go -C "$root/tools/engines" build -o "$bin/kyverno" \
    -ldflags "-X github.com/kyverno/kyverno/pkg/version.BuildVersion=${KYVERNO_VERSION#v}" \
    github.com/kyverno/kyverno/cmd/cli/kubectl-kyverno
  log "kyverno ${KYVERNO_VERSION} installed in $((SECONDS - start))s"
}

# gator and conftest: modules without replace directives, so `go install module@version` builds
# them as released; the version is stamped in as their release builds do (-X <var>=<version>).
# install_released <name> <version> <package> <version variable> <value> <line --version prints>
install_released() {
  local name=$1 version=$2 pkg=$3 var=$4 value=$5 says=$6
  if [ -x "$bin/$name" ] && installed_version "$bin/$name" --version | grep -q "$says"; then
    log "$name ${version} already installed"; return 0
  fi
  need_go
  log "building $name ${version} from the Go module proxy (first time: a few minutes)"
  local start=$SECONDS
  with_heartbeat "$name" go install -ldflags "-X ${var}=${value}" "${pkg}@${version}"
  log "$name ${version} installed in $((SECONDS - start))s"
}

install_gator() {
  install_released gator "$GATOR_VERSION" github.com/open-policy-agent/gatekeeper/v3/cmd/gator \
    github.com/open-policy-agent/gatekeeper/v3/pkg/version.Version "$GATOR_VERSION" "^gator version ${GATOR_VERSION} "
}

install_conftest() {
  install_released conftest "$CONFTEST_VERSION" github.com/open-policy-agent/conftest \
    github.com/open-policy-agent/conftest/internal/version.Version "${CONFTEST_VERSION#v}" "^Conftest: ${CONFTEST_VERSION#v}\$"
}

# cel-cost (tools/cel-cost): our CEL cost meter on Kubernetes' own CEL library (k8s.io/apiserver,
# pinned in its go.mod). Its identity is the hash of its sources, stamped in at build time.
install_cel_cost() {
  local src="$root/tools/cel-cost" hash
  hash=$(cat "$src/main.go" "$src/go.mod" "$src/go.sum" | sha256sum | cut -c1-16)
  if [ -x "$bin/cel-cost" ] && installed_version "$bin/cel-cost" --version | grep -qx "cel-cost ${hash}"; then
    log "cel-cost ${hash} already installed"; return 0
  fi
  need_go
  log "building cel-cost ${hash} (k8s.io/apiserver's CEL library; first time: a minute or two)"
  local start=$SECONDS
  with_heartbeat cel-cost go -C "$src" build -o "$bin/cel-cost" -ldflags "-X main.source=${hash}" .
  log "cel-cost ${hash} installed in $((SECONDS - start))s"
}

# The control plane (tools/cluster/go.mod pins k8s.io/kubernetes and etcd, and replaces the
# Kubernetes staging modules, which k8s.io/kubernetes' own go.mod points at local paths).
# install_cluster_binary <name> <version line it prints> <package> [ldflags]
install_cluster_binary() {
  local name=$1 says=$2 pkg=$3 ldflags=${4:-}
  local out=""
  if [ -x "$bin/$name" ]; then
    if [ "$name" = kubectl ]; then out=$("$bin/kubectl" version --client 2>/dev/null) || true; else out=$(installed_version "$bin/$name" --version); fi
  fi
  if printf '%s\n' "$out" | grep -q "$says"; then
    log "$name already installed ($says)"; return 0
  fi
  need_go
  log "building $name from tools/cluster (first time: several minutes)"
  local start=$SECONDS
  with_heartbeat "$name" go -C "$root/tools/cluster" build -o "$bin/$name" -ldflags "$ldflags" "$pkg"
  log "$name installed in $((SECONDS - start))s"
}

install_cluster() {
  local mod="$root/tools/cluster/go.mod"
  if ! grep -q "k8s.io/kubernetes ${KUBERNETES_VERSION}" "$mod" || ! grep -q "go.etcd.io/etcd/server/v3 ${ETCD_VERSION}" "$mod"; then
    log "tools/cluster/go.mod does not pin kubernetes ${KUBERNETES_VERSION} and etcd ${ETCD_VERSION}"; exit 2
  fi
  local minor=${KUBERNETES_VERSION#v1.}; minor=${minor%%.*}
  # Kubernetes stamps its version into component-base at release builds (hack/lib/version.sh).
  local stamp="-X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION} -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=${minor}"
  install_cluster_binary etcd "etcd Version: ${ETCD_VERSION#v}" go.etcd.io/etcd/server/v3
  install_cluster_binary kube-apiserver "Kubernetes ${KUBERNETES_VERSION}" k8s.io/kubernetes/cmd/kube-apiserver "$stamp"
  install_cluster_binary kubectl "Client Version: ${KUBERNETES_VERSION}" k8s.io/kubernetes/cmd/kubectl "$stamp"
}

# The admission controllers the cluster tests run as local processes (test/cluster/): Kyverno's
# (cmd/kyverno, from tools/engines/go.mod like the CLI, so the same version and replace) and
# Gatekeeper's manager (the module's main package, at gator's version). Neither has a version
# flag: the version is read from the module versions Go records in the binary (`go version -m`).
# built_module_version <binary> <module>
built_module_version() {
  [ -x "$1" ] || return 0
  go version -m "$1" 2>/dev/null | awk -v m="$2" '($1 == "mod" || $1 == "dep") && $2 == m { print $3 }'
}

install_controllers() {
  need_go
  local start
  if [ "$(built_module_version "$bin/kyverno-admission-controller" github.com/kyverno/kyverno)" = "$KYVERNO_VERSION" ]; then
    log "kyverno-admission-controller ${KYVERNO_VERSION} already installed"
  else
    log "building kyverno-admission-controller ${KYVERNO_VERSION} from tools/engines (first time: several minutes)"
    start=$SECONDS
    with_heartbeat kyverno-admission-controller go -C "$root/tools/engines" build -o "$bin/kyverno-admission-controller" \
      -ldflags "-X github.com/kyverno/kyverno/pkg/version.BuildVersion=${KYVERNO_VERSION#v}" github.com/kyverno/kyverno/cmd/kyverno
    log "kyverno-admission-controller ${KYVERNO_VERSION} installed in $((SECONDS - start))s"
  fi
  if [ "$(built_module_version "$bin/gatekeeper-manager" github.com/open-policy-agent/gatekeeper/v3)" = "$GATOR_VERSION" ]; then
    log "gatekeeper-manager ${GATOR_VERSION} already installed"
  else
    log "building gatekeeper-manager ${GATOR_VERSION} from the Go module proxy (first time: a few minutes)"
    start=$SECONDS
    local tmp
    tmp=$(mktemp -d)
    with_heartbeat gatekeeper-manager env GOBIN="$tmp" go install -ldflags "-X github.com/open-policy-agent/gatekeeper/v3/pkg/version.Version=${GATOR_VERSION}" \
      "github.com/open-policy-agent/gatekeeper/v3@${GATOR_VERSION}"
    # go install names a major-version module's binary after the element before /v3.
    mv "$tmp/gatekeeper" "$bin/gatekeeper-manager"
    rmdir "$tmp"
    log "gatekeeper-manager ${GATOR_VERSION} installed in $((SECONDS - start))s"
  fi
}

engines=("$@")
[ ${#engines[@]} -gt 0 ] || engines=(opa kyverno gator conftest cel-cost cluster controllers)
for e in "${engines[@]}"; do
  case "$e" in
    opa) install_opa ;;
    kyverno) install_kyverno ;;
    gator) install_gator ;;
    conftest) install_conftest ;;
    cel-cost) install_cel_cost ;;
    cluster) install_cluster ;;
    controllers) install_controllers ;;
    *) log "unknown engine: $e"; exit 2 ;;
  esac
done
