#!/usr/bin/env bash
# http1_counts.sh — what one keep-alive `GET /healthz` costs descent, in counts rather than time: heap
# allocations (glibc `malloc` and `posix_memalign`, which Swift uses for over-aligned or large temporary buffers,
# by perf uprobes), system calls (by kind, from the syscall tracepoints) and context switches, per request,
# during `wrk -t1 -c64`. nginx serving the same request is counted alike, as the reference. Counts are the same
# on a busy machine as on an idle one, where timings are not: they show what the reuse of heads, exchanges,
# slots and buffers, and the lane's turns (EventLane.serveReady), are meant to keep low.
#
# Usage: bench/http1_counts.sh     Env: SECONDS_RUN (3)  DESCENT_BIN (.build/release/descent; built if missing)
# Needs root (uprobes, tracepoints), perf (Debian's linux-perf), nginx and wrk. Exit: 0 when measured; 1 on a
# setup error.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d /opt/swift/usr/bin ]] && PATH="/opt/swift/usr/bin:$PATH"
SECONDS_RUN=${SECONDS_RUN:-3}
DESCENT_BIN=${DESCENT_BIN:-.build/release/descent}
for tool in perf nginx wrk curl python3; do
    command -v "$tool" >/dev/null || { echo "http1_counts.sh: $tool is required" >&2; exit 1; }
done
[[ -x $DESCENT_BIN ]] || swift build -c release --product descent
libc=$(ldd "$DESCENT_BIN" | awk '/libc\.so\.6/ { print $3 }')
[[ -n $libc ]] || { echo "http1_counts.sh: cannot find the libc $DESCENT_BIN uses" >&2; exit 1; }

tmp=$(mktemp -d)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    perf probe -q -d 'probe_libc:*' >/dev/null 2>&1 || true
    rm -rf "$tmp"
}
trap cleanup EXIT
for function in malloc posix_memalign; do
    perf probe -q -d "probe_libc:$function" >/dev/null 2>&1 || true
    perf probe -q -x "$libc" "$function" || { echo "http1_counts.sh: cannot place a uprobe on $function (root?)" >&2; exit 1; }
done
calls=(read recvfrom sendto writev write epoll_wait epoll_ctl futex)
events=probe_libc:malloc,probe_libc:posix_memalign,raw_syscalls:sys_enter,context-switches
for call in "${calls[@]}"; do events+=",syscalls:sys_enter_$call"; done

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nginx_port=$(free_port)
descent_port=$(free_port)
while [[ $descent_port == "$nginx_port" ]]; do descent_port=$(free_port); done
mkdir -p "$tmp/nginx/logs" "$tmp/data"
cat >"$tmp/nginx/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path $tmp/nginx/body;
    server {
        listen 127.0.0.1:$nginx_port;
        location = /healthz { default_type application/json; return 200 '{"status":"ok"}'; }
    }
}
NGINX
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log" &
pids+=($!)
nginx_master=$!
DESCENT_DATA_DIR="$tmp/data" DESCENT_IO_THREADS=1 "$DESCENT_BIN" --port "$descent_port" --log-level warning \
    >"$tmp/log" 2>&1 &
pids+=($!)
descent_pid=$!
for port in "$nginx_port" "$descent_port"; do
    for _ in $(seq 100); do curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz" 2>/dev/null && break; sleep 0.1; done
done
nginx_worker=$(pgrep -P "$nginx_master" | head -1)

count() {  # name pid port
    local url="http://127.0.0.1:$3/healthz" counter requests
    wrk -t1 -c64 -d1s "$url" >/dev/null  # warm-up: connections open, buffers and spares in place
    # perf counts for a little longer than wrk runs, so every request wrk counts is inside the window.
    perf stat -x, -e "$events" -p "$2" -o "$tmp/stat-$1" -- sleep $((SECONDS_RUN + 1)) &
    counter=$!
    sleep 0.3
    requests=$(wrk -t1 -c64 -d"${SECONDS_RUN}s" "$url" | awk '/requests in/ { print $1 }')
    wait "$counter"
    awk -F, -v name="$1" -v n="$requests" '
        $1 ~ /^[0-9]+$/ { v[$3] = $1 }
        END {
            printf "%-8s %9d %7.2f %8.2f %6.2f", name, n,
                (v["probe_libc:malloc"] + v["probe_libc:posix_memalign"]) / n, v["raw_syscalls:sys_enter"] / n,
                v["context-switches"] / n
            split("read recvfrom sendto writev write epoll_wait epoll_ctl futex", calls, " ")
            for (i = 1; i <= 8; i++) printf " %s %.3f", calls[i], v["syscalls:sys_enter_" calls[i]] / n
            printf "\n"
        }' "$tmp/stat-$1"
}
echo "per request, during wrk -t1 -c64 -d${SECONDS_RUN}s (the window is a little longer than the load: idle work counts too)"
printf '%-8s %9s %7s %8s %6s  %s\n' server requests allocs syscalls csw "by system call"
count nginx "$nginx_worker" "$nginx_port"
count descent "$descent_pid" "$descent_port"
