#!/usr/bin/env bash
# http1_allocs.sh — heap allocations per request: how many times descent calls malloc (and posix_memalign,
# which Swift uses for over-aligned or large temporary buffers) per keep-alive `GET /healthz`, counted by perf
# uprobes on glibc during `wrk -t1 -c64`. Not a speed: a count, the same on a busy machine as on an idle one,
# and what the server's reuse of heads, exchanges, slots and buffers is meant to keep low.
#
# Usage: bench/http1_allocs.sh     Env: SECONDS_RUN (3)  DESCENT_BIN (.build/release/descent; built if missing)
# Needs root (uprobes), perf (Debian's linux-perf) and wrk. Exit: 0 when measured; 1 on a setup error.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d /opt/swift/usr/bin ]] && PATH="/opt/swift/usr/bin:$PATH"
SECONDS_RUN=${SECONDS_RUN:-3}
DESCENT_BIN=${DESCENT_BIN:-.build/release/descent}
for tool in perf wrk curl python3; do
    command -v "$tool" >/dev/null || { echo "http1_allocs.sh: $tool is required" >&2; exit 1; }
done
[[ -x $DESCENT_BIN ]] || swift build -c release --product descent
libc=$(ldd "$DESCENT_BIN" | awk '/libc\.so\.6/ { print $3 }')
[[ -n $libc ]] || { echo "http1_allocs.sh: cannot find the libc $DESCENT_BIN uses" >&2; exit 1; }
for function in malloc posix_memalign; do
    perf probe -q -d "probe_libc:$function" >/dev/null 2>&1 || true
    perf probe -q -x "$libc" "$function" || { echo "http1_allocs.sh: cannot place a uprobe on $function (root?)" >&2; exit 1; }
done

tmp=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
DESCENT_DATA_DIR="$tmp" DESCENT_IO_THREADS=1 "$DESCENT_BIN" --port "$port" --log-level warning >"$tmp/log" 2>&1 &
server=$!
cleanup() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    perf probe -q -d 'probe_libc:*' >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
url="http://127.0.0.1:$port/healthz"
for _ in $(seq 100); do curl -fsS -o /dev/null "$url" 2>/dev/null && break; sleep 0.1; done
wrk -t1 -c64 -d1s "$url" >/dev/null  # warm-up: connections open, buffers and spares in place

# perf counts for a little longer than wrk runs, so every request wrk counts is inside the window.
perf stat -x, -e probe_libc:malloc,probe_libc:posix_memalign -p "$server" -o "$tmp/stat" -- sleep $((SECONDS_RUN + 1)) &
counter=$!
sleep 0.3
requests=$(wrk -t1 -c64 -d"${SECONDS_RUN}s" "$url" | awk '/requests in/ { print $1 }')
wait "$counter"
awk -F, -v n="$requests" '
    /probe_libc:malloc/ { m = $1 } /probe_libc:posix_memalign/ { p = $1 }
    END {
        printf "requests %d  malloc %d  posix_memalign %d\n", n, m, p
        printf "allocations per request: %.2f (the window is a little longer than the load: idle work counts too)\n", (m + p) / n
    }' "$tmp/stat"
