#!/usr/bin/env bash
# Fuzzes Descent's parsers with libFuzzer for a bounded time.
#
#   scripts/fuzz.sh                      # the HTTP/1.1 request parser (Sources/DescentHTTP), 60 s
#   scripts/fuzz.sh expression           # the formula language (Sources/DescentMath/Expression), 60 s
#   scripts/fuzz.sh http2                # the HTTP/2 adapter over libnghttp2 (Sources/DescentHTTP2), 60 s
#   scripts/fuzz.sh ingest               # the dataset parsers: JSON, CSV, .npy (Sources/DescentService/Ingest)
#   scripts/fuzz.sh jobspec              # the JSON parser and the job-spec decoder (DescentJSON, DescentJobs/Spec)
#   scripts/fuzz.sh all                  # every target, FUZZ_SECONDS each, two at a time (for `make test`)
#   FUZZ_SECONDS=300 scripts/fuzz.sh     # longer
#   FUZZ_JOBS=4 scripts/fuzz.sh          # several processes in parallel for one target (libFuzzer -fork)
#   FUZZ_PARALLEL=1 scripts/fuzz.sh all  # one target at a time (default 2: libFuzzer uses one core)
#
# The committed seeds in fuzz/<target>/corpus/ are only read; new inputs go to a scratch directory
# (FUZZ_WORK, default .build/fuzz-<target>-work/). On a crash, libFuzzer's non-zero exit code is returned and
# the crash file's path is printed: copy it to fuzz/<target>/crashes/ and add a regression test. `all` exits
# non-zero if any target failed, after printing each target's summary and the crash files.
#
# Builds: each target's module sources plus its fuzz/<target>/Fuzz*.swift are compiled as one module (so
# internal and `package` declarations are visible without an import); the Swift modules it imports are
# compiled first, once, into .build/fuzz-modules/ and shared between targets. Each binary and module is
# rebuilt only when a source (or this script) is newer than it. A clean build of every target takes about 3
# minutes of one core, most of it DescentMath; a clean `all` with FUZZ_SECONDS=45 took 5.5 minutes on 2 cores
# that others were also building on.
set -euo pipefail

cd "$(dirname "$0")/.."
script=scripts/fuzz.sh
if [[ -x /opt/swift/usr/bin/swiftc ]]; then export PATH="/opt/swift/usr/bin:$PATH"; fi

# A crash under ASan would otherwise start swift-backtrace, which hangs until the time limit.
export SWIFT_BACKTRACE=enable=no

# In the order `all` starts them: the two that need DescentMath (the longest build) first, so that its build
# overlaps with the other's fuzzing.
targets=(jobspec http2 ingest http1 expression)
target="${1:-http1}"
seconds="${FUZZ_SECONDS:-60}"

if [[ "$target" == all ]]; then
    parallel="${FUZZ_PARALLEL:-2}"
    start=$SECONDS
    mkdir -p .build
    echo "fuzz.sh: ${#targets[@]} targets, ${seconds}s each, $parallel at a time (logs: .build/fuzz-<target>.log)" >&2
    # Each target runs as its own invocation of this script, its output in its own log so that two running
    # side by side do not interleave; the modules they share are built under a lock (below).
    status=0
    # shellcheck disable=SC2016  # $0, $1 and $SECONDS are the inner shell's: the script, the target, its time
    # FUZZ_WORK is cleared so that each target keeps its own scratch corpus.
    printf '%s\n' "${targets[@]}" |
        FUZZ_WORK='' xargs -P "$parallel" -I{} bash -c 'if "$0" "$1" > ".build/fuzz-$1.log" 2>&1; then
            echo "fuzz.sh: $1 passed (${SECONDS}s)" >&2; else echo "fuzz.sh: $1 FAILED" >&2; exit 1; fi' "$script" {} ||
        status=1
    # One line per target: runs, executions per second and coverage (edges, features) from libFuzzer's log.
    for t in "${targets[@]}"; do
        log=.build/fuzz-$t.log
        runs=$(awk '/^stat::number_of_executed_units:/ {print $2}' "$log")
        speed=$(awk '/^stat::average_exec_per_sec:/ {print $2}' "$log")
        coverage=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -1 || true)
        verdict=$(grep -E '^fuzz.sh: (no crash|libFuzzer exited|build failed)' "$log" | tail -1 || true)
        echo "fuzz.sh: $t: ${runs:-?} runs, ${speed:-?} exec/s, ${coverage:-no coverage}; ${verdict#fuzz.sh: }" >&2
        if grep -q '^fuzz.sh: crash input' "$log"; then
            sed -n '/^fuzz.sh: crash input/,$p' "$log" >&2
        elif [[ -z "$verdict" || "$verdict" != *"no crash"* ]]; then
            tail -n 30 "$log" >&2
        fi
    done
    echo "fuzz.sh: all: $((SECONDS - start))s wall time" >&2
    exit "$status"
fi

# Each target: the module it is compiled into, that module's sources, the file defining
# LLVMFuzzerTestOneInput, the Swift modules it imports (built first), and C modules' include paths.
modules=()
includes=()
case "$target" in
http1)
    module=DescentHTTP
    sources=(Sources/DescentHTTP/*.swift fuzz/http1/FuzzHTTP1.swift)
    ;;
expression)
    # Only DescentMath's Expression/ sources, which need neither OpenBLAS nor the rest of the module.
    module=DescentMath
    sources=(Sources/DescentMath/Expression/*.swift fuzz/expression/FuzzExpression.swift)
    ;;
http2)
    module=DescentHTTP2
    sources=(Sources/DescentHTTP2/*.swift fuzz/http2/FuzzHTTP2.swift)
    modules=(DescentLog DescentHTTP)
    includes=(-I Sources/CNGHTTP2)
    ;;
ingest)
    # The parsers without DatasetUpload.swift, which only adds the hashing and the catalog's summary (it
    # would pull in DescentJobs and DescentStorage); the fuzz target dispatches by format the same way.
    module=DescentService
    sources=(Sources/DescentService/Ingest/*.swift fuzz/ingest/FuzzIngest.swift)
    for i in "${!sources[@]}"; do
        if [[ "${sources[$i]}" == */DatasetUpload.swift ]]; then unset 'sources[i]'; fi
    done
    modules=(DescentJSON DescentMath)
    includes=(-I Sources/COpenBLAS)
    ;;
jobspec)
    module=DescentJobs
    sources=(Sources/DescentJobs/Spec/*.swift fuzz/jobspec/FuzzJobSpec.swift)
    modules=(DescentJSON DescentMath)
    includes=(-I Sources/COpenBLAS)
    ;;
*)
    echo "fuzz.sh: unknown target '$target' (${targets[*]} or all)" >&2
    exit 2
    ;;
esac

jobs="${FUZZ_JOBS:-1}"
work="${FUZZ_WORK:-.build/fuzz-$target-work}"
binary=.build/fuzz-$target
seeds=fuzz/$target/corpus
moduleDir=.build/fuzz-modules
dictionary=()
if [[ -f "fuzz/$target/$target.dict" ]]; then dictionary=(-dict="fuzz/$target/$target.dict"); fi

mkdir -p .build "$moduleDir" "$work/corpus" "$work/artifacts"

# Release mode with coverage instrumentation and ASan everywhere: a debug build gets far fewer executions
# per second, and libFuzzer is guided by the imported modules' coverage too. -package-name: `package`
# declarations are visible across the modules, as in the SwiftPM build.
# shellcheck disable=SC2054  # -sanitize=fuzzer,address is one argument
flags=(-O -sanitize=fuzzer,address -parse-as-library -package-name Descent)

# Whether $1 is missing or older than any of the files after it (or this script, whose flags it was built with).
stale() {
    local output=$1
    shift
    [[ ! -e "$output" ]] && return 0
    [[ -n "$(find "$@" "$script" -newer "$output" -print -quit)" ]]
}

# The linker warns about every exported local symbol of the instrumented objects; nothing to act on.
quiet() { "$@" 2> >(grep -v 'Cannot export local symbol' >&2); }

# Builds the Swift module $1 into $moduleDir ($1.swiftmodule, $1.o) unless it is up to date. Under a lock:
# two targets of `all` may need the same module at the same moment; the second waits, then finds it built.
build_module() {
    local name=$1 module_sources=() module_includes=()
    case "$name" in
    DescentMath)
        mapfile -t module_sources < <(find Sources/DescentMath -name '*.swift' | sort)
        module_includes=(-I Sources/COpenBLAS)
        ;;
    *) module_sources=(Sources/"$name"/*.swift) ;;
    esac
    (
        flock 9
        if stale "$moduleDir/$name.o" "${module_sources[@]}"; then
            echo "fuzz.sh: building module $name" >&2
            # The object is written under another name and renamed when whole, so that an interrupted build
            # never leaves an up-to-date-looking object behind.
            if ! quiet swiftc "${flags[@]}" -wmo -module-name "$name" "${module_includes[@]}" -I "$moduleDir" \
                -emit-module -emit-module-path "$moduleDir/$name.swiftmodule" \
                -c "${module_sources[@]}" -o "$moduleDir/$name.partial.o"; then
                exit 1
            fi
            mv "$moduleDir/$name.partial.o" "$moduleDir/$name.o"
        fi
    ) 9>"$moduleDir/$name.lock"
}

objects=()
for name in "${modules[@]}"; do
    build_module "$name" || {
        echo "fuzz.sh: build failed (module $name)" >&2
        exit 1
    }
    objects+=("$moduleDir/$name.o")
done

if stale "$binary" "${sources[@]}" "${objects[@]}"; then
    echo "fuzz.sh: building $binary" >&2
    quiet swiftc "${flags[@]}" -module-name "$module" "${includes[@]}" -I "$moduleDir" \
        "${sources[@]}" "${objects[@]}" -o "$binary" || {
        echo "fuzz.sh: build failed ($binary)" >&2
        exit 1
    }
else
    echo "fuzz.sh: $binary is up to date" >&2
fi

fork=()
if [[ "$jobs" -gt 1 ]]; then fork=(-fork="$jobs" -ignore_crashes=0); fi

echo "fuzz.sh: fuzzing $target for ${seconds}s (new inputs in $work/corpus)" >&2
status=0
"$binary" "${fork[@]}" "${dictionary[@]}" \
    -max_total_time="$seconds" -timeout=5 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
    -artifact_prefix="$work/artifacts/" \
    "$work/corpus" "$seeds" 2>&1 | tee "$work/fuzz.log" || status=${PIPESTATUS[0]}

if [[ "$status" -ne 0 ]]; then
    echo "fuzz.sh: libFuzzer exited with $status" >&2
    crashes=$(grep -o "Test unit written to [^ ]*" "$work/fuzz.log" | sed 's/Test unit written to //' || true)
    if [[ -n "$crashes" ]]; then
        echo "fuzz.sh: crash input(s) (copy to fuzz/$target/crashes/ and add a regression test):" >&2
        echo "$crashes" >&2
    fi
    exit "$status"
fi
echo "fuzz.sh: no crash in ${seconds}s" >&2
