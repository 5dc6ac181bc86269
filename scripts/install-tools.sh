#!/usr/bin/env bash
# Installs the tools the publishing and playground tests drive, from Debian's packages, when
# missing: docker-registry (a local OCI registry), skopeo (pushes the OCI layout to it), kubectl
# (`kubectl kustomize`), openssl (test signing keys) and chromium (the playground's browser,
# driven by playwright-core, which downloads no browser of its own).
# Idempotent and fast when all are present: apt-get runs only when something is missing.
# Usage: scripts/install-tools.sh
set -euo pipefail

log() { printf '[tools] %s\n' "$*" >&2; }

# command → Debian package. kubectl is Debian's kubernetes-client; a kubectl already on PATH
# (any source) is kept.
declare -A package=(
  [docker-registry]=docker-registry
  [skopeo]=skopeo
  [kubectl]=kubernetes-client
  [openssl]=openssl
  [chromium]=chromium
)

have() { command -v "$1" >/dev/null 2>&1; }

missing=()
for cmd in docker-registry skopeo kubectl openssl chromium; do
  have "$cmd" || missing+=("${package[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && { log "docker-registry, skopeo, kubectl, openssl, chromium present"; exit 0; }

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then sudo=(sudo); else
    log "missing: ${missing[*]}; install them as root: apt-get update && apt-get install -y ${missing[*]}"; exit 2
  fi
else sudo=(); fi

log "installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
# Debian starts a package's service on install unless policy-rc.d says no, and the registry's
# would listen on every interface (:5000). The tests start their own, on 127.0.0.1 only.
guard=/usr/sbin/policy-rc.d
if [ ! -e "$guard" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$guard" >/dev/null
  "${sudo[@]}" chmod +x "$guard"
  trap '"${sudo[@]}" rm -f "$guard"' EXIT
fi
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for cmd in docker-registry skopeo kubectl openssl chromium; do
  have "$cmd" || { log "$cmd still missing after apt-get install"; exit 2; }
done
log "installed ${missing[*]}"
