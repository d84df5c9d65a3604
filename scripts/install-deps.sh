#!/usr/bin/env bash
# install-deps.sh — make sure this Debian machine has what Descent needs to build and test.
#
# Idempotent: each package is checked with `dpkg -s`; `apt-get update` and `apt-get install` run only
# when something is missing, and then once. Runs as root (CI) or through sudo otherwise.
# It also checks that a Swift 6 toolchain is on PATH (or in /opt/swift/usr/bin); it does not install one.
#
# Usage: scripts/install-deps.sh          Exit: 0 ready; 1 something is missing and could not be fixed.
set -euo pipefail

# Build: the C libraries of the system-library targets (Package.swift) and pkg-config to find them.
build_pkgs=(libnghttp2-dev libopenblas-dev liblapacke-dev libsqlite3-dev libssl-dev pkg-config curl)
# Tests: h2load/nghttp (HTTP/2 checks) and venvs for the Python-side tools (schemathesis, numpy, ...).
test_pkgs=(nghttp2-client python3-venv wrk)

log() { printf '[install-deps] %s\n' "$*" >&2; }

missing=()
for pkg in "${build_pkgs[@]}" "${test_pkgs[@]}"; do
    # `dpkg -s` also succeeds for removed-but-configured packages, so check the status line.
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} > 0)); then
    if [[ $(id -u) -eq 0 ]]; then
        as_root=()
    elif command -v sudo >/dev/null 2>&1; then
        as_root=(sudo)
    else
        log "missing packages: ${missing[*]}; not root and no sudo — install them as root and rerun"
        exit 1
    fi
    log "installing: ${missing[*]}"
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null
else
    log "all Debian packages present"
fi

# Swift: on PATH, or the toolchain this machine keeps in /opt/swift.
if ! command -v swift >/dev/null 2>&1; then
    if [[ -x /opt/swift/usr/bin/swift ]]; then
        log "swift is not on PATH; found /opt/swift/usr/bin/swift — run: export PATH=/opt/swift/usr/bin:\$PATH"
        log "(the Makefile and .ci/run add it themselves)"
    else
        log "no Swift toolchain found. Install Swift 6 for Debian 12 from https://www.swift.org/install/linux/"
        log "(e.g. with swiftly), put its usr/bin on PATH, and rerun."
        exit 1
    fi
else
    log "$(swift --version 2>&1 | head -1)"
fi
