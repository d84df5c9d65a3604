#!/usr/bin/env bash
# container-test.sh — build the Dockerfile and run the image with the shared container-check tool
# (podman + locally made base images; builds, probes GET /healthz, checks non-root and a clean SIGTERM stop).
#
# Tool: $CONTAINER_CHECK, else ../shared/tools/container-check next to the repository, else the workplace's
# /work/shared/tools/container-check (a CI clone may live elsewhere).
# Exit: the tool's code (0 pass, 1 the image fails), except its 77 ("this machine cannot run podman or
#       make the base images") which becomes "SKIP: <reason>" and exit 0; a missing tool is a SKIP too.
# Env:  passed through to the tool (PORT, KEEP, SWIFT_IMAGE, RUNTIME_IMAGE, CONTAINER_CHECK_CACHE).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
tool=${CONTAINER_CHECK:-$root/../shared/tools/container-check}
if [[ -z ${CONTAINER_CHECK:-} && ! -x $tool && -x /work/shared/tools/container-check ]]; then
    tool=/work/shared/tools/container-check
fi

if [[ ! -f $tool ]]; then
    echo "SKIP: container-check not found at $tool (set CONTAINER_CHECK to its path)"
    exit 0
fi

# Keep the tool's stderr visible and also capture its last line to explain a skip.
errlog=$(mktemp)
trap 'rm -f "$errlog"' EXIT
{ bash "$tool" "$root" 2>&1 1>&3 3>&- | tee "$errlog" >&2; } 3>&1
code=${PIPESTATUS[0]}
if ((code == 77)); then
    reason=$(grep -m1 'cannot run here' "$errlog" | sed 's/.*cannot run here: //')
    echo "SKIP: ${reason:-container-check reports this machine cannot run containers}"
    exit 0
fi
exit "$code"
