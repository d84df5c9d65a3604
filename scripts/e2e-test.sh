#!/usr/bin/env bash
# e2e-test.sh — the end-to-end suite: the real `descent` binary driven with real curl (pytest, tests-e2e/),
# then a schemathesis contract run of openapi.yaml against a live server.
#
# Python tools live in a venv, $E2E_VENV (default .venv-e2e, gitignored), made with Debian's python3-venv
# (scripts/install-deps.sh installs it) and filled from tests-e2e/requirements.txt, every version pinned; it
# is rebuilt only when that file changes. Needs PyPI the first time. Runs as root or not, with no input.
#
# Usage: scripts/e2e-test.sh [pytest args...]     e.g. scripts/e2e-test.sh -k streams -x
# Env:   E2E_VENV                   venv directory (default .venv-e2e)
#        E2E_SCHEMATHESIS=0         skip the schemathesis run
#        E2E_SCHEMATHESIS_SECONDS   its time budget (default 90; it fuzzes until the budget is spent)
#        E2E_SCHEMATHESIS_SEED      its random seed (default 1, so that a failure can be reproduced)
# Exit:  0 when both pass; otherwise pytest's code if it failed, else schemathesis' (or 1 when the server
#        did not survive the run or stop cleanly). Both always run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
[[ -d /opt/swift/usr/bin ]] && PATH="/opt/swift/usr/bin:$PATH"
# A crash must not start swift-backtrace, which can hang until the time limit (TESTING.md).
export SWIFT_BACKTRACE=enable=no

log() { printf '[e2e] %s\n' "$*" >&2; }

# ---------------------------------------------------------------------------------------------- the venv
venv=${E2E_VENV:-$root/.venv-e2e}
requirements=tests-e2e/requirements.txt
# Debian's own python3 (python3-venv is installed for it), not one that a version manager put first on PATH.
python=/usr/bin/python3
[[ -x $python ]] || python=$(command -v python3)
stamp="$venv/.requirements.sha256"
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)
if [[ ! -x $venv/bin/python || ! -f $stamp || $(cat "$stamp") != "$wanted" ]]; then
    log "making the venv $venv from $requirements"
    if ! "$python" -m venv --clear "$venv"; then
        log "python3 -m venv failed: install python3-venv (scripts/install-deps.sh does)"
        exit 1
    fi
    "$venv/bin/pip" install --disable-pip-version-check --no-input -q -r "$requirements"
    echo "$wanted" >"$stamp"
fi

# ---------------------------------------------------------------------------------------------- the binary
log "building the debug binary"
swift build --product descent
binary=$root/.build/debug/descent

# ---------------------------------------------------------------------------------------------- pytest
log "pytest tests-e2e"
started=$SECONDS
pytest_status=0
(cd tests-e2e && "$venv/bin/python" -m pytest --descent-binary="$binary" "$@") || pytest_status=$?
log "pytest took $((SECONDS - started)) s (exit $pytest_status)"

# ---------------------------------------------------------------------------------------------- schemathesis
# It runs even when pytest failed, so that one CI run reports both.
if [[ ${E2E_SCHEMATHESIS:-1} == 0 ]]; then
    log "schemathesis skipped (E2E_SCHEMATHESIS=0)"
    exit "$pytest_status"
fi

scratch=$(mktemp -d)
server_pid=
cleanup() {
    if [[ -n $server_pid ]] && kill -0 "$server_pid" 2>/dev/null; then kill -KILL "$server_pid" 2>/dev/null || true; fi
    rm -rf "$scratch"
}
trap cleanup EXIT

# One worker and a short queue: generated jobs may ask for 10^7 iterations, and a full queue (429) is part of
# the contract too. --port 0 lets the kernel pick a free port; the server logs it.
"$binary" --host 127.0.0.1 --port 0 --data-dir "$scratch/data" --workers 1 --max-queue 4 \
    >"$scratch/server.log" 2>&1 &
server_pid=$!
port=
for _ in $(seq 200); do
    port=$(grep -o '"msg":"listening".*"address":"[^"]*"' "$scratch/server.log" | grep -o '[0-9]*"$' | tr -d '"' ||
        true)
    [[ -n $port ]] && curl -fsS -o /dev/null "http://127.0.0.1:$port/readyz" 2>/dev/null && break
    port=
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
done
if [[ -z $port ]]; then
    log "the server did not become ready:"
    tail -20 "$scratch/server.log" >&2
    exit 1
fi

# Checks: all of them, minus (each argued):
#   positive_data_acceptance — it expects every schema-valid request to succeed, but the service validates
#     beyond what JSON Schema can say, by design (docs/jobs-api-decisions.md), and a 400/422 is then the right
#     answer. Seen when it was on: rows of unequal length (JSON Schema cannot require equal lengths), labels
#     that do not suit the model, a predict row of the wrong length, a `cursor=0` that is no cursor this server
#     made, `?target=` on a JSON upload (it applies to CSV only), an Idempotency-Key reused with another body.
#     negative_data_rejection stays on, so schema-invalid input must still be refused.
excluded=positive_data_acceptance
seconds=${E2E_SCHEMATHESIS_SECONDS:-90}
log "schemathesis against :$port for ${seconds} s (checks: all but $excluded)"
status=0
# Its working directory is under .build/ (ignored), where it keeps the failures it found for `st replay`:
#   cd .build/e2e-schemathesis && ../../.venv-e2e/bin/st replay --url http://127.0.0.1:8080   (a server running)
workdir=$root/.build/e2e-schemathesis
mkdir -p "$workdir"
(cd "$workdir" && SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONPATH="$root/tests-e2e" \
    "$venv/bin/schemathesis" --config-file "$root/tests-e2e/schemathesis.toml" run "$root/openapi.yaml" \
    --url "http://127.0.0.1:$port" --checks all --exclude-checks "$excluded" \
    --max-time "$seconds" --seed "${E2E_SCHEMATHESIS_SEED:-1}" --request-timeout 70 \
    --generation-database none --no-color) || status=$?

# The server must have survived the run and stop cleanly: SIGTERM, and at most 30 s to exit 0. (Until it
# is waited for, an exited child is a zombie, which `kill -0` still finds: read its state instead.)
kill -TERM "$server_pid"
for _ in $(seq 300); do
    state=$(awk '{print $3}' "/proc/$server_pid/stat" 2>/dev/null || echo gone)
    [[ $state == Z || $state == gone ]] && break
    sleep 0.1
done
code=0
if [[ $state != Z && $state != gone ]]; then
    log "the server did not stop within 30 s of SIGTERM"
    kill -KILL "$server_pid" 2>/dev/null || true
fi
wait "$server_pid" || code=$?
server_pid=
if ((code != 0)); then
    log "the server exited with $code after the schemathesis run; its log ends:"
    tail -20 "$scratch/server.log" >&2
    ((status != 0)) || status=1
fi
log "schemathesis: exit $status"
if ((pytest_status != 0)); then
    exit "$pytest_status"
fi
exit "$status"
