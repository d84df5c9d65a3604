#!/usr/bin/env bash
# http1.sh — BENCHMARKS.md "HTTP/1.1 small responses": descent's GET /healthz against nginx's
# `return 200 '{"status":"ok"}'`, side by side in one run, and memory per idle keep-alive connection.
#
#  1. nginx (Debian's; one worker, access_log off) and the release descent binary on free loopback ports.
#  2. Warm-up, then ROUNDS rounds of `wrk -t1 -c64 -d10s --latency`, alternating nginx / descent.
#  3. A table of every run, the medians, and descent/nginx req/s against the targets:
#     ≥ 0.7× nginx req/s, descent p99 ≤ 2 ms.
#  4. 10,000 idle keep-alive connections (bench/idle_conns.py: one GET each, then silent) to descent, and to
#     nginx for reference: (VmRSS after − VmRSS before) / connections, from /proc/PID/status.
#
# Usage: bench/http1.sh      Env: ROUNDS (3)  DURATION (10s)  CONNS (64)  IDLE (10000)
#                                 DESCENT_BIN (.build/release/descent; built if missing)
#      DESCENT_IO_THREADS (1): descent's event lanes. One by default, as nginx runs one worker: like for like,
#      and on a 2-core machine where wrk holds the other core, a second lane only competes with wrk for CPU.
#      DESCENT_IO_THREADS=2 bench/http1.sh measures the service's default on this machine (one lane per core).
#      PIN (0): PIN=1 runs both servers on CPU 0 and wrk on CPU 1 (taskset), so that the load generator and the
#      server under test never share a core; the scheduler's placement then adds no noise. nginx and descent
#      are treated alike (descent's Dispatch threads all share CPU 0 then).
#      COMPARE_BIN (unset): another descent build (e.g. of an earlier commit), served alongside and measured in the
#      same rounds, right after DESCENT_BIN: its medians and its p99 against nginx's round by round. Two builds
#      measured in separate runs of this script are apart by more than the machine's noise allows.
# Exit: 0 when the figures were measured (targets missed are reported, not failed); 1 on a setup error.
set -euo pipefail
cd "$(dirname "$0")/.."
[[ -d /opt/swift/usr/bin ]] && PATH="/opt/swift/usr/bin:$PATH"

ROUNDS=${ROUNDS:-3}
server_cpu=()
client_cpu=()
if [[ ${PIN:-0} == 1 ]]; then
    command -v taskset >/dev/null || { echo "http1.sh: PIN=1 needs taskset" >&2; exit 1; }
    server_cpu=(taskset -c 0)
    client_cpu=(taskset -c 1)
fi
DURATION=${DURATION:-10s}
CONNS=${CONNS:-64}
IDLE=${IDLE:-10000}
DESCENT_BIN=${DESCENT_BIN:-.build/release/descent}

for tool in nginx wrk curl python3; do
    command -v "$tool" >/dev/null || { echo "http1.sh: $tool is required" >&2; exit 1; }
done
if [[ ! -x $DESCENT_BIN ]]; then
    echo "== building release (no $DESCENT_BIN)"
    swift build -c release --product descent
fi

# Room for IDLE connections in descent, nginx and the client (they inherit this limit).
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
if (($(ulimit -n) < IDLE + 100)); then
    echo "http1.sh: ulimit -n is $(ulimit -n); lowering IDLE to fit" >&2
    IDLE=$(($(ulimit -n) - 200))
fi

tmp=$(mktemp -d)
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
nginx_port=$(free_port)
descent_port=$(free_port)
while [[ $descent_port == "$nginx_port" ]]; do descent_port=$(free_port); done

# --- nginx: the anchor. keepalive_requests is raised so that nginx, like descent, never closes a busy
# keep-alive connection during the run (its default of 1000 would make wrk reconnect).
mkdir -p "$tmp/nginx/logs"
cat >"$tmp/nginx/nginx.conf" <<NGINX
worker_processes 1;
daemon off;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/logs/error.log warn;
events { worker_connections $((IDLE + 1024)); }
http {
    access_log off;
    keepalive_requests 100000000;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 127.0.0.1:$nginx_port;
        location = /healthz { default_type application/json; return 200 '{"status":"ok"}'; }
    }
}
NGINX
${server_cpu[@]+"${server_cpu[@]}"} nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" -e "$tmp/nginx/logs/error.log" &
pids+=($!)
nginx_master=$!

# --- descent, with its store in the temp dir and room for the idle connections (its default cap is 10,000).
mkdir -p "$tmp/data"
DESCENT_DATA_DIR="$tmp/data" DESCENT_MAX_CONNECTIONS=$((IDLE + 1024)) DESCENT_IO_THREADS=${DESCENT_IO_THREADS:-1} \
    ${server_cpu[@]+"${server_cpu[@]}"} "$DESCENT_BIN" --port "$descent_port" --log-level warning >"$tmp/descent.log" 2>&1 &
pids+=($!)
descent_pid=$!
if [[ -n ${COMPARE_BIN:-} ]]; then
    compare_port=$(free_port)
    mkdir -p "$tmp/compare-data"
    DESCENT_DATA_DIR="$tmp/compare-data" DESCENT_MAX_CONNECTIONS=1024 DESCENT_IO_THREADS=${DESCENT_IO_THREADS:-1} \
        ${server_cpu[@]+"${server_cpu[@]}"} "$COMPARE_BIN" --port "$compare_port" --log-level warning \
        >"$tmp/compare.log" 2>&1 &
    pids+=($!)
    compare_pid=$!
fi

wait_up() {  # name url pid
    local _
    for _ in $(seq 100); do
        curl -fsS -o /dev/null "$2" 2>/dev/null && return 0
        kill -0 "$3" 2>/dev/null || break
        sleep 0.1
    done
    echo "http1.sh: $1 did not answer $2" >&2
    [[ $1 == descent ]] && tail -20 "$tmp/descent.log" >&2
    exit 1
}
nginx_url="http://127.0.0.1:$nginx_port/healthz"
descent_url="http://127.0.0.1:$descent_port/healthz"
wait_up nginx "$nginx_url" "$nginx_master"
wait_up descent "$descent_url" "$descent_pid"
if [[ -n ${COMPARE_BIN:-} ]]; then
    compare_url="http://127.0.0.1:$compare_port/healthz"
    wait_up compare "$compare_url" "$compare_pid"
fi
nginx_worker=$(pgrep -P "$nginx_master" | head -1)
echo "nginx   $(nginx -v 2>&1 | sed 's/.*\///') on :$nginx_port  -> $(curl -fsS "$nginx_url")"
echo "descent $DESCENT_BIN on :$descent_port  -> $(curl -fsS "$descent_url")"
[[ -z ${COMPARE_BIN:-} ]] || echo "compare $COMPARE_BIN on :$compare_port  -> $(curl -fsS "$compare_url")"

# --- wrk. Prints "<req/s> <p99 ms> <errors>" from wrk's report.
run_wrk() {  # url duration
    ${client_cpu[@]+"${client_cpu[@]}"} wrk -t1 -c"$CONNS" -d"$2" --latency "$1" | awk '
        /Requests\/sec:/ { rps = $2 }
        /^ +99%/ { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v)
                   p99 = (u == "us") ? v / 1000 : (u == "s") ? v * 1000 : (u == "m") ? v * 60000 : v }
        /Socket errors:/ { split($0, a, /[ ,]+/); for (i in a) if (a[i] ~ /^[0-9]+$/) err += a[i] }
        /Non-2xx or 3xx/ { err += $NF }
        END { printf "%.0f %.3f %d\n", rps, p99, err }'
}

echo "== warm-up (3s each)"
run_wrk "$nginx_url" 3s >/dev/null
run_wrk "$descent_url" 3s >/dev/null
[[ -z ${COMPARE_BIN:-} ]] || run_wrk "$compare_url" 3s >/dev/null

echo "== wrk -t1 -c$CONNS -d$DURATION --latency, $ROUNDS rounds, alternating"
printf '%-6s %-8s %12s %10s %7s\n' round server req/s p99_ms errors
n_rps=() n_p99=() d_rps=() d_p99=() c_rps=() c_p99=() d_ratio=() c_ratio=()
for r in $(seq "$ROUNDS"); do
    read -r rps p99 err < <(run_wrk "$nginx_url" "$DURATION")
    printf '%-6s %-8s %12s %10s %7s\n' "$r" nginx "$rps" "$p99" "$err"
    n_rps+=("$rps"); n_p99+=("$p99")
    read -r rps p99 err < <(run_wrk "$descent_url" "$DURATION")
    printf '%-6s %-8s %12s %10s %7s\n' "$r" descent "$rps" "$p99" "$err"
    d_rps+=("$rps"); d_p99+=("$p99"); d_ratio+=("$(awk -v a="$p99" -v b="${n_p99[-1]}" 'BEGIN { print a / b }')")
    if [[ -n ${COMPARE_BIN:-} ]]; then
        read -r rps p99 err < <(run_wrk "$compare_url" "$DURATION")
        printf '%-6s %-8s %12s %10s %7s\n' "$r" compare "$rps" "$p99" "$err"
        c_rps+=("$rps"); c_p99+=("$p99"); c_ratio+=("$(awk -v a="$p99" -v b="${n_p99[-1]}" 'BEGIN { print a / b }')")
    fi
done

median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
mn_rps=$(median "${n_rps[@]}"); mn_p99=$(median "${n_p99[@]}")
md_rps=$(median "${d_rps[@]}"); md_p99=$(median "${d_p99[@]}")
printf '%-6s %-8s %12.0f %10.3f\n' median nginx "$mn_rps" "$mn_p99"
printf '%-6s %-8s %12.0f %10.3f\n' median descent "$md_rps" "$md_p99"
if [[ -n ${COMPARE_BIN:-} ]]; then
    printf '%-6s %-8s %12.0f %10.3f\n' median compare "$(median "${c_rps[@]}")" "$(median "${c_p99[@]}")"
    printf 'p99 / nginx p99 of the same round, median: descent %.2f, compare %.2f\n' \
        "$(median "${d_ratio[@]}")" "$(median "${c_ratio[@]}")"
fi
awk -v d="$md_rps" -v n="$mn_rps" -v p="$md_p99" 'BEGIN {
    ratio = (n > 0) ? d / n : 0
    printf "descent/nginx req/s: %.2fx   (target >= 0.70x: %s)\n", ratio, (ratio >= 0.7) ? "MET" : "MISSED"
    printf "descent p99: %.3f ms      (target <= 2 ms:  %s)\n", p, (p <= 2) ? "MET" : "MISSED"
}'

# --- memory per idle keep-alive connection.
rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
idle_memory() {  # name pid port
    local before after opened still fifo="$tmp/idle-$1"
    before=$(rss_kb "$2")
    mkfifo "$fifo"
    python3 bench/idle_conns.py 127.0.0.1 "$3" "$IDLE" <"$fifo" >"$tmp/idle-$1.out" &
    local client=$!
    pids+=("$client")
    exec 9>"$fifo"
    until grep -q '^ready' "$tmp/idle-$1.out" 2>/dev/null; do
        kill -0 "$client" 2>/dev/null || { echo "http1.sh: idle client for $1 died" >&2; exec 9>&-; return 1; }
        sleep 0.2
    done
    sleep 1  # let the server finish any per-connection work
    after=$(rss_kb "$2")
    echo >&9; exec 9>&-
    wait "$client" || true
    opened=$(awk '/^ready/ { print $2 }' "$tmp/idle-$1.out")
    still=$(awk '/^still-open/ { print $2 }' "$tmp/idle-$1.out")
    awk -v n="$1" -v b="$before" -v a="$after" -v o="$opened" -v s="$still" 'BEGIN {
        printf "%-8s VmRSS %7.1f MB -> %7.1f MB with %d idle connections (%d still open after): %.2f KB/connection\n",
               n, b / 1024, a / 1024, o, s, (o > 0) ? (a - b) / o : 0 }'
}
echo "== memory per idle keep-alive connection ($IDLE connections, one GET each, then silent)"
idle_memory descent "$descent_pid" "$descent_port"
idle_memory nginx "$nginx_worker" "$nginx_port"
