#!/usr/bin/env bash
# sanitize.sh — the whole test suite (`swift test`: XCTest and Swift Testing) under AddressSanitizer
# (with LeakSanitizer) and/or ThreadSanitizer (issue 8).
#
#   scripts/sanitize.sh                       # both: address, then thread
#   scripts/sanitize.sh address               # ASan + LSan only
#   scripts/sanitize.sh thread                # TSan only
#   scripts/sanitize.sh thread --filter Foo   # arguments after the first go to `swift test` unchanged
#
# Each sanitizer builds into its own scratch path, .build/sanitize-address or .build/sanitize-thread, so the
# normal debug build in .build is never invalidated; the tests then run with `swift test --skip-build` and
# the same flags. The instrumented `descent` built there is the one the end-to-end tests start
# (Tests/DescentTestSupport: the executable beside the test bundle wins), so the server's own process is
# checked too.
#
# Verdict: a sanitizer passes only if `swift test` exits 0 AND no process wrote a report. Reports go to
# files (log_path=.build/sanitize-<name>/reports/report.<pid>) because a `descent` started by a test writes
# its stderr into a pipe the test reads, where a report would be lost; every report file is printed at the
# end. (Under TSan, XCTest may print "0 failures" while the process exits 66: the exit code is what counts.)
# Suppressions, each argued: sanitizers/lsan.supp and sanitizers/tsan.supp. One summary line per sanitizer,
# with its wall time, then exit 0 only if every sanitizer that ran passed.
#
# Full logs: .build/sanitize-<name>/build.log and test.log. Needs only the Swift toolchain (its clang builds
# the small TSan helper library, sanitizers/tsan-swift-mutex.c) and what `swift test` needs (curl, nghttp).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
if [[ -x /opt/swift/usr/bin/swift ]]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

# A crash under a sanitizer would otherwise start swift-backtrace, which hangs until the time limit.
export SWIFT_BACKTRACE=enable=no

which="${1:-all}"
shift || true
case "$which" in
address | thread) sanitizers=("$which") ;;
all) sanitizers=(address thread) ;;
*)
    echo "sanitize.sh: unknown sanitizer '$which' (address, thread or all)" >&2
    exit 2
    ;;
esac
test_args=("$@")

summaries=()
failed=0

# run_one NAME: build and test under one sanitizer; appends its summary line; returns non-zero on failure.
run_one() {
    local name="$1"
    local scratch=".build/sanitize-$name"
    local reports="$root/$scratch/reports"
    # Line tables are all a report needs (file:line in every frame); full debug info only makes the cold
    # build and link slower.
    local flags=(--sanitize="$name" --scratch-path "$scratch" -Xswiftc -gline-tables-only)
    if [[ "$name" == thread ]]; then
        # TSan's pass turns every call that may unwind into an `invoke` with a cleanup, for C++ exceptions.
        # Sources/DescentMath/RowKernels.swift calls the llvm.prefetch intrinsic through @_silgen_name, which
        # Swift declares without `nounwind`, so the pass makes it an invoke and LLVM's verifier aborts the
        # compiler ("Cannot invoke an intrinsic", a crash of swift-frontend). Swift code never unwinds (errors
        # are returned, traps do not unwind, no C++ is linked), so the cleanups guard nothing here.
        flags+=(-Xswiftc -Xllvm -Xswiftc -tsan-handle-cxx-exceptions=0)
    fi
    mkdir -p "$scratch"
    rm -rf "$reports"
    mkdir -p "$reports"

    echo "==> sanitize: $name — swift build --build-tests ${flags[*]}"
    local start=$SECONDS
    if ! swift build --build-tests "${flags[@]}" 2>&1 | tee "$scratch/build.log"; then
        summaries+=("sanitize: $name FAIL (build failed after $((SECONDS - start)) s; see $scratch/build.log)")
        return 1
    fi
    if [[ ! -x "$scratch/debug/descent" ]]; then
        summaries+=("sanitize: $name FAIL (no $scratch/debug/descent after the build)")
        return 1
    fi
    # TSan only: preload sanitizers/tsan-swift-mutex.c, which shows TSan the lock hand-over of a contended
    # Synchronization.Mutex (done in the kernel; without it, every Mutex-guarded state can be reported as a
    # race). Its header argues it; it changes no lock and hides no access made outside a lock.
    local preload=""
    if [[ "$name" == thread ]]; then
        preload="$root/$scratch/libtsan-swift-mutex.so"
        if ! clang -shared -fPIC -O1 -Wall -Werror -o "$preload" sanitizers/tsan-swift-mutex.c -ldl; then
            summaries+=("sanitize: $name FAIL (cannot build sanitizers/tsan-swift-mutex.c)")
            return 1
        fi
    fi
    local built=$SECONDS

    echo "==> sanitize: $name — swift test --skip-build ${flags[*]} ${test_args[*]}"
    local status=0
    # Shared by ASan/LSan/TSan: reports to files (llvm-symbolizer comes from the toolchain on PATH).
    local common="log_path=$reports/report"
    case "$name" in
    address)
        ASAN_OPTIONS="$common:detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1" \
            LSAN_OPTIONS="suppressions=$root/sanitizers/lsan.supp:print_suppressions=1" \
            swift test --skip-build "${flags[@]}" "${test_args[@]}" 2>&1 | tee "$scratch/test.log" ||
            status=$?
        ;;
    thread)
        local tsan="$common:suppressions=$root/sanitizers/tsan.supp:print_suppressions=1:halt_on_error=0"
        LD_PRELOAD="$preload" TSAN_OPTIONS="$tsan:second_deadlock_stack=1" \
            swift test --skip-build "${flags[@]}" "${test_args[@]}" 2>&1 | tee "$scratch/test.log" ||
            status=$?
        ;;
    esac
    local finished=$SECONDS

    # Report files that hold only the suppressions' statistics are not findings.
    local findings=()
    local file
    for file in "$reports"/report.*; do
        [[ -e "$file" ]] || continue
        echo "==> sanitize: $name — $file"
        cat "$file"
        if grep -qE '(ERROR|SUMMARY): (Address|Leak|Thread)Sanitizer|WARNING: ThreadSanitizer' "$file"; then
            findings+=("$file")
        fi
    done

    local times="build $((built - start)) s, tests $((finished - built)) s, total $((finished - start)) s"
    if ((status == 0 && ${#findings[@]} == 0)); then
        summaries+=("sanitize: $name PASS ($times)")
        return 0
    fi
    summaries+=("sanitize: $name FAIL (swift test exit $status, ${#findings[@]} report file(s) in $reports; $times)")
    return 1
}

for name in "${sanitizers[@]}"; do
    run_one "$name" || failed=1
done

echo
printf '%s\n' "${summaries[@]}"
exit "$failed"
