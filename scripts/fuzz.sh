#!/usr/bin/env bash
# Fuzzes one of Descent's parsers with libFuzzer for a bounded time.
#
#   scripts/fuzz.sh                      # the HTTP/1.1 request parser (Sources/DescentHTTP), 60 s
#   scripts/fuzz.sh expression           # the formula language (Sources/DescentMath/Expression), 60 s
#   FUZZ_SECONDS=300 scripts/fuzz.sh     # longer
#   FUZZ_JOBS=4 scripts/fuzz.sh          # several processes in parallel (libFuzzer -fork)
#
# The committed seeds in fuzz/<target>/corpus/ are only read; new inputs go to a scratch directory
# (FUZZ_WORK, default .build/fuzz-<target>-work/). On a crash, libFuzzer's non-zero exit code is returned and
# the crash file's path is printed: copy it to fuzz/<target>/crashes/ and add a regression test.
set -euo pipefail

cd "$(dirname "$0")/.."

# A crash under ASan would otherwise start swift-backtrace, which hangs until the time limit.
export SWIFT_BACKTRACE=enable=no

target="${1:-http1}"
# Each target: the module it is compiled into, that module's sources, and the file defining
# LLVMFuzzerTestOneInput. The expression target takes only DescentMath's Expression/ sources, which need
# neither OpenBLAS nor the rest of the module.
case "$target" in
http1)
    module=DescentHTTP
    sources=(Sources/DescentHTTP/*.swift fuzz/http1/FuzzHTTP1.swift)
    ;;
expression)
    module=DescentMath
    sources=(Sources/DescentMath/Expression/*.swift fuzz/expression/FuzzExpression.swift)
    ;;
*)
    echo "fuzz.sh: unknown target '$target' (http1 or expression)" >&2
    exit 2
    ;;
esac

seconds="${FUZZ_SECONDS:-60}"
jobs="${FUZZ_JOBS:-1}"
work="${FUZZ_WORK:-.build/fuzz-$target-work}"
binary=.build/fuzz-$target
seeds=fuzz/$target/corpus
dictionary=()
if [ -f "fuzz/$target/$target.dict" ]; then dictionary=(-dict="fuzz/$target/$target.dict"); fi

mkdir -p .build "$work/corpus" "$work/artifacts"

# The module's sources plus the fuzz target, compiled as one module so `package` declarations are
# visible (hence -package-name). Release mode: a debug build gets far fewer executions per second.
echo "fuzz.sh: building $binary" >&2
swiftc -O -sanitize=fuzzer,address -parse-as-library \
    -module-name "$module" -package-name Descent \
    "${sources[@]}" -o "$binary" \
    2> >(grep -v 'Cannot export local symbol' >&2)

fork=()
if [ "$jobs" -gt 1 ]; then fork=(-fork="$jobs" -ignore_crashes=0); fi

echo "fuzz.sh: fuzzing for ${seconds}s (new inputs in $work/corpus)" >&2
status=0
"$binary" "${fork[@]}" "${dictionary[@]}" \
    -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" \
    "$work/corpus" "$seeds" 2>&1 | tee "$work/fuzz.log" || status=${PIPESTATUS[0]}

if [ "$status" -ne 0 ]; then
    echo "fuzz.sh: libFuzzer exited with $status" >&2
    crashes=$(grep -o "Test unit written to [^ ]*" "$work/fuzz.log" | sed 's/Test unit written to //' || true)
    if [ -n "$crashes" ]; then
        echo "fuzz.sh: crash input(s):" >&2
        echo "$crashes" >&2
    fi
    exit "$status"
fi
echo "fuzz.sh: no crash in ${seconds}s" >&2
