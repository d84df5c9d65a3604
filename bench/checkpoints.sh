#!/usr/bin/env bash
# checkpoints.sh — issue 5: what checkpoints cost a running job. The same SGD job (200,000 × 16 rows, 40 epochs)
# on the release binary with checkpoints every CHECKPOINT seconds (default 0.1: 20 times the default cadence)
# and with none, ROUNDS times (default 3) each, alternating; prints the times, the median overhead, and checks
# that both runs end with the same weights.
# Usage: bench/checkpoints.sh      Env: ROUNDS (3)  CHECKPOINT (0.1)
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d /opt/swift/usr/bin ]] && PATH="/opt/swift/usr/bin:$PATH"
swift build -c release --product descent >/dev/null
[[ -x .venv/bin/python ]] || { python3 -m venv .venv && .venv/bin/pip install -q numpy; }
# -P: bench/ holds a math.py, which must not shadow the standard library's math module.
exec .venv/bin/python -P bench/checkpoints.py .build/release/descent
