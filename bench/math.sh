#!/usr/bin/env bash
# math.sh — BENCHMARKS.md / issue 3 "How fast": the fused full-batch gradient kernel and the SGD epoch against
# their anchors, side by side in one run.
#
#  1. Builds descent-bench-math in release, and the venv .venv with numpy and scikit-learn (PyPI) if missing.
#  2. Full batch, linear + squared, on the large set 1,000,000 × 64 (512 MB, above the last-level cache) and
#     the smaller set 100,000 × 64: ROUNDS rounds of [descent-bench-math (a, b, d in one process), then numpy
#     (c)], each figure the median of ITER runs; the table shows the median over rounds.
#       (a) Objective.evaluate with the gradient (the fused one-pass kernel), THREADS threads
#       (b) two-pass OpenBLAS dgemv: r = Xw + b − y, g = Xᵀr/n (OpenBLAS's own threads)
#       (c) numpy g = X.T @ (X @ w - y) / n (own random data, same shape), OPENBLAS_CORETYPE and
#           OPENBLAS_L2_SIZE unset for that command only
#       (d) one vectorised read pass over X (SIMD8 sum over THREADS threads)
#     Targets: (a)/(d) ≤ 1.25 on the large set; (c)/(a) ≥ 2.
#  3. SGD (batch 1, shuffled, constant η, EPOCHS epochs) on SGD_ROWS × 64 made by bench/math.py: descent's
#     Trainer against scikit-learn's SGDRegressor, seconds per epoch (median of ROUNDS fits) and the final
#     objective mean ½ r² of each. Target: sklearn / descent ≥ 3 at the same final loss.
#  4. Issue 7, custom losses: on each of SETS, ROUNDS rounds of descent-bench-math --mode expression — the
#     fused kernel with the built-in squared loss (s) and with the formula (p - y)^2 / 2 (f), interleaved, each
#     the median of ITER runs. Target: (f)/(s) ≤ 3.
#
# Usage: bench/math.sh     Env: ROUNDS (3)  ITER (10)  THREADS (nproc)  SETS ("1000000x64 100000x64")
#                               SGD_ROWS (100000)  EPOCHS (5)  ETA (0.001)
# Exit: 0 when the figures were measured (missed targets are reported, not failed); 1 on a setup error.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d /opt/swift/usr/bin ]] && PATH="/opt/swift/usr/bin:$PATH"

ROUNDS=${ROUNDS:-3}
ITER=${ITER:-10}
THREADS=${THREADS:-$(nproc)}
SETS=${SETS-"1000000x64 100000x64"}
SGD_ROWS=${SGD_ROWS:-100000}
EPOCHS=${EPOCHS:-5}
ETA=${ETA:-0.001}
BIN=.build/release/descent-bench-math
PY=.venv/bin/python

command -v swift >/dev/null || { echo "math.sh: swift is required" >&2; exit 1; }
if ! "$PY" -c 'import numpy, sklearn' 2>/dev/null; then
    echo "== setting up .venv (numpy, scikit-learn from PyPI)"
    [[ -x $PY ]] || python3 -m venv .venv || { echo "math.sh: cannot create .venv" >&2; exit 1; }
    "$PY" -m pip install --quiet numpy scikit-learn || { echo "math.sh: pip install failed" >&2; exit 1; }
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "== building release: swift build -c release --product descent-bench-math"
if ! swift build -c release --product descent-bench-math >"$tmp/build.log" 2>&1; then
    cat "$tmp/build.log" >&2
    echo "math.sh: the build failed" >&2
    exit 1
fi

echo "== machine"
echo "nproc: $(nproc)"
grep -m1 '^model name' /proc/cpuinfo || true
lscpu 2>/dev/null | grep -E '^(L2|L3) cache' || true
grep -m1 MemTotal /proc/meminfo || true
echo "SIMD flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx|avx2|fma|avx512f)$' | xargs)"
echo "knobs: ROUNDS=$ROUNDS ITER=$ITER THREADS=$THREADS SETS=\"$SETS\" SGD_ROWS=$SGD_ROWS EPOCHS=$EPOCHS ETA=$ETA"

# value KEY LINE — the value of KEY=... in a RESULT line.
value() { tr ' ' '\n' <<<"$2" | sed -n "s/^$1=//p"; }
# median of the numbers given as arguments.
median() {
    printf '%s\n' "$@" | sort -g \
        | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

declare -A table
for set in $SETS; do
    rows=${set%x*}
    columns=${set#*x}
    ka=() kb=() kc=() kd=() gbs=()
    for round in $(seq 1 "$ROUNDS"); do
        echo "== full batch $rows × $columns, round $round/$ROUNDS"
        "$BIN" --mode fullbatch --rows "$rows" --columns "$columns" --iterations "$ITER" --threads "$THREADS" \
            | tee "$tmp/swift.out"
        env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$PY" bench/math.py --mode fullbatch --rows "$rows" \
            --columns "$columns" --iterations "$ITER" | tee "$tmp/numpy.out"
        swift_line=$(grep '^RESULT' "$tmp/swift.out")
        numpy_line=$(grep '^RESULT' "$tmp/numpy.out")
        ka+=("$(value kernel_ms "$swift_line")")
        kb+=("$(value blas_ms "$swift_line")")
        kd+=("$(value read_ms "$swift_line")")
        gbs+=("$(value read_gbs "$swift_line")")
        kc+=("$(value numpy_ms "$numpy_line")")
    done
    table[$set]="$(median "${ka[@]}") $(median "${kb[@]}") $(median "${kc[@]}") $(median "${kd[@]}") \
$(median "${gbs[@]}")"
    # Per-round ratios, to show their spread next to the ratio of the medians.
    spread=""
    for i in "${!ka[@]}"; do spread+="$(ratio "${ka[$i]}" "${kd[$i]}")/$(ratio "${kc[$i]}" "${ka[$i]}") "; done
    table[$set.spread]=$spread
done

echo "== SGD $SGD_ROWS × 64, $EPOCHS epochs, η = $ETA"
"$PY" bench/math.py --mode sgd --rows "$SGD_ROWS" --columns 64 --epochs "$EPOCHS" --eta "$ETA" \
    --iterations "$ROUNDS" --write "$tmp/sgd.f64" | tee "$tmp/sklearn.out"
"$BIN" --mode sgd --data "$tmp/sgd.f64" --rows "$SGD_ROWS" --columns 64 --epochs "$EPOCHS" --eta "$ETA" \
    --iterations "$ROUNDS" --threads "$THREADS" | tee "$tmp/sgd.out"
sklearn_line=$(grep '^RESULT' "$tmp/sklearn.out")
sgd_line=$(grep '^RESULT' "$tmp/sgd.out")

echo
echo "== summary (medians over $ROUNDS rounds of medians of $ITER runs; $THREADS threads)"
printf '%-12s %9s %9s %9s %9s %7s %8s %8s  %s\n' set "(a) ms" "(b) ms" "(c) ms" "(d) ms" "d GB/s" \
    "(a)/(d)" "(c)/(a)" "per round (a)/(d)/(c)/(a)"
for set in $SETS; do
    read -r a b c d g <<<"${table[$set]}"
    printf '%-12s %9.3f %9.3f %9.3f %9.3f %7.1f %8s %8s  %s\n' "$set" "$a" "$b" "$c" "$d" "$g" \
        "$(ratio "$a" "$d")" "$(ratio "$c" "$a")" "${table[$set.spread]}"
done
echo "targets: (a)/(d) ≤ 1.25 on 1000000x64; (c)/(a) ≥ 2.  (b)/(a): the fused kernel's gain over two BLAS passes."
descent_epoch=$(value seconds_per_epoch "$sgd_line")
sklearn_epoch=$(value seconds_per_epoch "$sklearn_line")
printf '\n%-28s %12s %12s %8s\n' "SGD ${SGD_ROWS}x64, E=$EPOCHS" "descent" "sklearn" "ratio"
printf '%-28s %12.3f %12.3f %8s\n' "ms per epoch" "$(awk -v s="$descent_epoch" 'BEGIN {print s * 1e3}')" \
    "$(awk -v s="$sklearn_epoch" 'BEGIN {print s * 1e3}')" "$(ratio "$sklearn_epoch" "$descent_epoch")"
printf '%-28s %12s %12s\n' "final objective mean ½r²" "$(value loss "$sgd_line")" "$(value loss "$sklearn_line")"
echo "target: sklearn/descent ≥ 3 at the same final loss (descent's time includes its per-epoch loss pass)."

echo
for set in $SETS; do
    rows=${set%x*}
    columns=${set#*x}
    ks=() kf=() ratios=()
    for round in $(seq 1 "$ROUNDS"); do
        echo "== custom loss (p - y)^2 / 2 vs built-in squared, $rows × $columns, round $round/$ROUNDS"
        "$BIN" --mode expression --rows "$rows" --columns "$columns" --iterations "$ITER" --threads "$THREADS" \
            | tee "$tmp/expression.out"
        line=$(grep '^RESULT' "$tmp/expression.out")
        ks+=("$(value squared_ms "$line")")
        kf+=("$(value formula_ms "$line")")
        ratios+=("$(value ratio "$line")")
    done
    table[$set.expression]="$(median "${ks[@]}") $(median "${kf[@]}") ${ratios[*]}"
done
echo
echo "== custom loss summary (medians over $ROUNDS rounds of medians of $ITER runs; $THREADS threads)"
printf '%-12s %12s %12s %8s  %s\n' set "squared ms" "formula ms" "ratio" "per round"
for set in $SETS; do
    read -r s f spread <<<"${table[$set.expression]}"
    printf '%-12s %12.3f %12.3f %8s  %s\n' "$set" "$s" "$f" "$(ratio "$f" "$s")" "$spread"
done
echo "target: formula / squared ≤ 3 (issue 7)."
